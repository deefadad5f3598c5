import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/main.js';
import { startTestServer } from './helpers/test-server.js';

/**
 * R-OPS-7: `/api/openapi.json` is an OpenAPI 3.1 document generated from the zod schemas that
 * covers every registered `/api` route (collected with onRoute, like the permission matrix), and
 * `/api/docs` renders it as a page that loads nothing from elsewhere.
 */
describe('OpenAPI document', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const fetchDoc = async () => {
    const res = await fetch(`${server.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    // Parsed from the text: the body must be valid JSON, not only something fetch accepts.
    return JSON.parse(await res.text()) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components: { schemas: Record<string, unknown> };
    };
  };

  it('R-OPS-7: is OpenAPI 3.1.0 and lists every registered /api route with its method', async () => {
    const doc = await fetchDoc();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    const registered = server.routes
      .filter((r) => r.url.startsWith('/api/'))
      .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    expect(registered.length).toBeGreaterThan(30);
    expect(registered.filter((r) => !documented.has(r)).sort()).toEqual([]);
    // Nothing documented that the server does not serve.
    expect([...documented].filter((d) => !registered.includes(d)).sort()).toEqual([]);
  });

  it('R-OPS-7: request bodies are the zod schemas as JSON Schema; errors share one schema', async () => {
    const doc = await fetchDoc();
    const body = (p: string, m: string) => {
      const requestBody = doc.paths[p]?.[m]?.requestBody as
        | { content: Record<string, { schema: Record<string, unknown> }> }
        | undefined;
      if (!requestBody) throw new Error(`${m} ${p} has no request body`);
      return requestBody.content;
    };
    const login = body('/api/auth/login', 'post')['application/json']!.schema;
    expect(login).toMatchObject({
      type: 'object',
      required: ['username', 'password'],
      additionalProperties: false,
    });
    const session = body('/api/sessions', 'post')['application/json']!.schema as {
      properties: Record<string, { maxItems?: number; enum?: string[] }>;
    };
    expect(session.properties.readerIds?.maxItems).toBe(5);
    expect(session.properties.mode?.enum).toEqual(['live', 'blind']);
    const scans = body('/api/scans', 'post');
    expect(Object.keys(scans).sort()).toEqual([
      'application/dicom',
      'application/json',
      'multipart/form-data',
    ]);
    expect(scans['application/json']!.schema).toMatchObject({
      properties: { rows: { type: 'integer', maximum: 8192 } },
    });
    expect(doc.components.schemas.Error).toMatchObject({ type: 'object', required: ['error'] });
    // Path parameters are declared; public routes need no token.
    const get = doc.paths['/api/sessions/{sessionId}/scans/{scanId}/consensus']?.get as {
      parameters: Array<{ name: string; in: string }>;
      responses: Record<string, unknown>;
    };
    expect(get.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(['path:sessionId', 'path:scanId']);
    expect(get.responses).toHaveProperty('401');
    expect(doc.paths['/api/health']?.get?.security).toEqual([]);
  });

  it('R-OPS-7: /api/docs is a self-contained HTML page naming every operation', async () => {
    const res = await fetch(`${server.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    // The CSP of R-SEC-3 applies here too: the page must work without outside scripts.
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/<script|<link|src="http/i);
    for (const route of server.routes.filter((r) => r.url.startsWith('/api/'))) {
      expect(html).toContain(`<span class="m">${route.method}</span> <code>${route.url}</code>`);
    }
  });
});
