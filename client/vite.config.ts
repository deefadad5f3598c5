import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
/** Where `npm run serve` listens during development; the server owns the API and `/yjs`. */
const backend = process.env.CXR_BACKEND ?? 'http://localhost:8080';

export default defineConfig({
  root,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/yjs': { target: backend, ws: true, changeOrigin: true },
    },
  },
});
