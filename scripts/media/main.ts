/**
 * `bun run media <command>`: operator commands for the media bucket (README, "Media operations").
 *   lifecycle [--dry-run]                                   write the bucket's lifecycle rules
 *   migrate --from local --to s3 [--dry-run] [--verify]     copy MEDIA_DIR into S3_BUCKET, resumable
 *           [--concurrency N] [--journal FILE]
 * Configuration comes from the environment through the one config module (S3_*, MEDIA_DIR, MEDIA_*).
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../../src/config/index.ts";
import { putLifecycle } from "./lifecycle.ts";
import { runMigrationCommand } from "./migrate-command.ts";

const USAGE = `usage:
  bun run media lifecycle [--dry-run]
  bun run media migrate --from local --to s3 [--dry-run] [--verify] [--concurrency N] [--journal FILE]`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "dry-run": { type: "boolean", default: false },
      verify: { type: "boolean", default: false },
      from: { type: "string" },
      to: { type: "string" },
      concurrency: { type: "string" },
      journal: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  if (!config.storage.s3.bucket) {
    console.error("S3_BUCKET is not set: the media commands work on the S3 bucket");
    return 2;
  }
  if (command === "lifecycle") {
    const request = await putLifecycle(config, { dryRun: values["dry-run"] });
    const verb = values["dry-run"] ? "would send" : "sent";
    console.log(`${verb}: ${request.method} ${request.url}`);
    for (const [name, value] of Object.entries(request.headers)) {
      if (name !== "authorization") console.log(`${name}: ${value}`);
    }
    console.log(`\n${request.body}`);
    return 0;
  }
  if (command === "migrate") {
    if (values.from !== "local" || values.to !== "s3") {
      console.error("only --from local --to s3 is supported");
      return 2;
    }
    const concurrency = Number(values.concurrency ?? 8);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      console.error("--concurrency must be a whole number from 1 to 64");
      return 2;
    }
    return runMigrationCommand(config, {
      dryRun: values["dry-run"],
      verify: values.verify,
      concurrency,
      journal: values.journal,
    });
  }
  console.error(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
