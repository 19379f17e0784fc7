# Multi-stage on the official Bun image: dependencies are installed and the bundle is built in throwaway stages;
# the runtime image holds the bundle (every process kind, migrations included), sharp's modules and the docs
# page's one browser bundle, and runs as the unprivileged `bun` user. No `# syntax=` line: nothing here needs a newer front end than the builder's own.
ARG BUN_VERSION=1.4.5

# Production modules from the lockfile as it is: `--frozen-lockfile` fails the build when package.json and the
# lockfile disagree (there is deliberately no fallback that would resolve versions anew). The bundle (below)
# carries every module but sharp, a native addon (RUNTIME_PACKAGES in scripts/build.ts), so only sharp and what
# it depends on stay; then what no process reads goes (see the script: type declarations, source maps, packages'
# tests, docs and sources shipped beside their compiled files), and sharp is imported once, so a prune that took
# an entry point fails here.
FROM oven/bun:${BUN_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/image/prune-modules.ts ./prune-modules.ts
RUN bun install --production --frozen-lockfile --ignore-scripts \
 && bun prune-modules.ts node_modules package.json sharp

# The full install (dev dependencies too) builds what the runtime runs and is then thrown away:
# - the production bundle, dist/app/main.js, with its precompiled bytecode (scripts/build.ts: the API's start
#   to its first answer without resolving and compiling ~1,800 modules; the migrations are inside), and beside
#   it, in dist/app/vendor/, the packages loaded only on first use (GraphQL, the S3 SDK, the mailer, the
#   password dictionaries), so that a start does not read them;
# - the interactive reference page's one standalone file of @scalar/api-reference, a dev dependency (it pulls
#   Vue, an AI SDK and TypeScript), copied out alone.
FROM oven/bun:${BUN_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN bun install --frozen-lockfile --ignore-scripts
COPY tsconfig.json bunfig.toml ./
COPY scripts/build.ts ./scripts/build.ts
COPY src ./src
COPY workers ./workers
COPY migrations ./migrations
RUN bun run build \
 && mkdir -p dist/docs \
 && cp node_modules/@scalar/api-reference/dist/browser/standalone.js dist/docs/scalar-api-reference.js

FROM oven/bun:${BUN_VERSION}-slim AS runtime
ENV NODE_ENV=production PORT=8080 METRICS_PORT=9091
WORKDIR /app
# Code and modules stay owned by root (read-only to the app).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json marks the app's root, where the bundle finds dist/docs (src/app-root.ts).
COPY package.json ./
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
CMD ["bun", "dist/app/main.js"]
