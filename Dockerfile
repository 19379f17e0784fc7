# Multi-stage on the official Bun image: dependencies are installed in throwaway stages, the runtime image holds
# only production modules, our sources and the docs page's one browser bundle, and runs as the unprivileged
# `bun` user. No `# syntax=` line: nothing here needs a newer front end than the builder's own.
ARG BUN_VERSION=1.4.5

# Production modules from the lockfile as it is: `--frozen-lockfile` fails the build when package.json and the
# lockfile disagree (there is deliberately no fallback that would resolve versions anew).
FROM oven/bun:${BUN_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/image/prune-modules.ts ./prune-modules.ts
# What no process reads goes (see the script; measured: 23 MB of type declarations and source maps, 10 MB of
# packages' tests, docs, Markdown and sources shipped beside their compiled files). Then every production
# dependency is imported once, so a prune that took an entry point fails here.
RUN bun install --production --frozen-lockfile --ignore-scripts \
 && bun prune-modules.ts node_modules package.json

# The interactive reference page needs one standalone file of @scalar/api-reference, a dev dependency (it pulls
# Vue, an AI SDK and TypeScript); the full install stays in this stage and only that file is copied out.
FROM oven/bun:${BUN_VERSION}-slim AS docs
WORKDIR /app
COPY package.json package-lock.json ./
RUN bun install --frozen-lockfile --ignore-scripts \
 && mkdir -p dist/docs \
 && cp node_modules/@scalar/api-reference/dist/browser/standalone.js dist/docs/scalar-api-reference.js

FROM oven/bun:${BUN_VERSION}-slim AS runtime
ENV NODE_ENV=production PORT=8080 METRICS_PORT=9091
WORKDIR /app
# Code and modules stay owned by root (read-only to the app).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=docs /app/dist ./dist
COPY package.json tsconfig.json bunfig.toml ./
COPY src ./src
COPY workers ./workers
COPY migrations ./migrations
# The only directories the app writes (local media when a volume is mounted there, the mail outbox without
# SMTP), made explicitly: Docker's builder does not give /app to the user of a `COPY --chown` (moby/buildkit#790).
RUN mkdir -p /app/.data/media /app/.data/outbox && chown -R bun:bun /app/.data
USER bun
EXPOSE 8080 9091
# The API answers /health on PORT; a worker answers /healthz on WORKER_PORT (9091). Fly ignores this and uses
# fly.toml's checks; it is for `docker run`/`podman healthcheck run`.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "const ok = async (u) => (await fetch(u).catch(() => undefined))?.ok === true; process.exit((await ok(`http://127.0.0.1:${process.env.PORT}/health`)) || (await ok(`http://127.0.0.1:${process.env.WORKER_PORT ?? 9091}/healthz`)) ? 0 : 1)"]
# Fly process groups override this command (see fly.toml); the default is the API.
CMD ["bun", "src/main.ts"]
