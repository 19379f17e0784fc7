/** Prints the OpenAPI document exactly as the app serves it, without starting a server or touching a database. */
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/config/index.ts";
import { buildDeps } from "../src/deps.ts";
import { createLogger } from "../src/infra/logger.ts";

export async function generateOpenApiDocument(): Promise<unknown> {
  const config = parseConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    PUBLIC_BASE_URL: "https://api.plant.community",
  });
  // Connections are lazy: building deps opens nothing until a query runs.
  const deps = await buildDeps(config, { logger: createLogger("silent") });
  try {
    return createApp(deps).document;
  } finally {
    await deps.close();
  }
}

if (import.meta.main) {
  process.stdout.write(`${JSON.stringify(await generateOpenApiDocument(), null, 2)}\n`);
}
