# syntax=docker/dockerfile:1.7
# Multi-stage on the official Bun image: dependencies are installed in a throwaway stage, the runtime image
# holds only production modules and our sources, and runs as the unprivileged `bun` user.
ARG BUN_VERSION=1.4.5

FROM oven/bun:${BUN_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN bun install --production --frozen-lockfile --ignore-scripts \
 || bun install --production --ignore-scripts

FROM oven/bun:${BUN_VERSION}-slim AS runtime
ENV NODE_ENV=production PORT=8080 METRICS_PORT=9091
WORKDIR /app
COPY --from=deps --chown=bun:bun /app/node_modules ./node_modules
COPY --chown=bun:bun package.json tsconfig.json bunfig.toml ./
COPY --chown=bun:bun src ./src
COPY --chown=bun:bun workers ./workers
COPY --chown=bun:bun migrations ./migrations
USER bun
EXPOSE 8080 9091
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch(`http://127.0.0.1:${process.env.PORT}/health`); process.exit(r.ok ? 0 : 1)"]
# Fly process groups override this command (see fly.toml); the default is the API.
CMD ["bun", "src/main.ts"]
