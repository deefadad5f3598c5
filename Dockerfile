FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY client/package.json client/
COPY e2e/package.json e2e/
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/* \
  && npm ci --no-audit --no-fund
COPY . .
RUN npx vite build client
ENV NODE_ENV=production
EXPOSE 8080
CMD ["npx", "tsx", "server/src/cli.ts", "serve"]
