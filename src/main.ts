import { createApp } from "./app.ts";
import { loadConfig } from "./config/index.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { seedSpecies } from "./db/seed.ts";
import { buildDeps } from "./deps.ts";
import { startMetricsServer } from "./http/metrics-server.ts";
import { runMain } from "./run-main.ts";

async function start(): Promise<void> {
  const config = loadConfig();
  const deps = await buildDeps(config);
  const { logger } = deps;

  if (config.env !== "production") {
    // In production the release command migrates (fly.toml); locally the start command does it all.
    const applied = await migrateToLatest(deps.db.primary);
    if (applied.length) logger.info({ applied }, "migrations applied");
    if (config.seedOnStart) logger.info(await seedSpecies(deps.db.primary), "species catalogue seeded");
  }

  const { app } = createApp(deps);
  const server = Bun.serve({
    port: config.port,
    hostname: config.host,
    fetch: (req, srv) => app.fetch(req, { server: srv, request: req }),
  });
  const base = `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${server.port}`;
  // startupMs: process start to listening (performance.now() counts from the process's time origin).
  logger.info(
    { url: base, docs: `${base}/v1/docs`, startupMs: Math.round(performance.now()) },
    "api listening",
  );
  const metricsServer =
    config.metrics.port > 0
      ? startMetricsServer({
          registry: deps.metrics.registry,
          port: config.metrics.port,
          hostname: config.metrics.host,
          logger,
        })
      : undefined;
  if (metricsServer) logger.info({ url: `${metricsServer.url}/metrics` }, "metrics listening");

  let stopping = false;
  async function shutdown(signal: string) {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, drainDelayMs: config.http.shutdownDrainDelayMs }, "draining");
    deps.lifecycle.draining = true;
    const deadline = setTimeout(() => {
      logger.error("drain deadline passed; exiting");
      process.exit(1);
    }, config.http.shutdownDrainDelayMs + config.http.shutdownTimeoutMs);
    // Still serving while the proxy's health check sees /health fail and routes new requests elsewhere.
    if (config.http.shutdownDrainDelayMs > 0) await Bun.sleep(config.http.shutdownDrainDelayMs);
    await server.stop(false);
    await metricsServer?.stop();
    await deps.close();
    clearTimeout(deadline);
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

runMain(start);
