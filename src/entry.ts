/**
 * The production bundle's one entry point (scripts/build.ts, `dist/app/main.js`): one bundle for every process
 * kind, so the image carries the shared code and its bytecode once.
 *
 *   bun dist/app/main.js                      the API (src/main.ts)
 *   bun dist/app/main.js worker               a lane worker (workers/main.ts; lanes from WORKER_QUEUES)
 *   bun dist/app/main.js migrate <command>    migrations (src/db/migrate-cli.ts; `release` on deploy)
 *
 * Each role's modules are required only for that role: a bundle's modules run when first required, so the API
 * does not evaluate the worker's code, nor the reverse.
 */
const [role = "api", ...args] = process.argv.slice(2);

if (role === "api") {
  require("./main.ts");
} else if (role === "worker") {
  require("../workers/main.ts");
} else if (role === "migrate") {
  const { runMigrateCli } = require("./db/migrate-cli.ts") as typeof import("./db/migrate-cli.ts");
  void runMigrateCli(args[0] ?? "latest");
} else {
  console.error(`unknown role "${role}": use api (the default), worker or migrate <command>`);
  process.exit(2);
}
