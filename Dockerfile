FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY client/package.json client/
COPY e2e/package.json e2e/
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ tini && rm -rf /var/lib/apt/lists/* \
  && npm ci --no-audit --no-fund
COPY . .
RUN npx vite build client
ENV NODE_ENV=production
EXPOSE 8080
# node itself, with no npm or npx between: neither passes SIGTERM on, so `docker stop` would
# leave the server running until the SIGKILL. tini (PID 1) forwards signals and reaps zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "server/src/cli.ts", "serve"]
