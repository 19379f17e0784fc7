import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../../src/config/index.ts";
import { migrateLocalToS3 } from "./migrate.ts";
import { formatBytes, type Progress, progressReporter } from "./migrate-progress.ts";
import { mediaS3Client } from "./s3-client.ts";

/** `bun run media migrate --from local --to s3`: exit 0 when every object is in the bucket, 1 otherwise. */
export async function runMigrationCommand(
  config: Pick<Config, "storage">,
  opts: { dryRun: boolean; verify: boolean; concurrency: number; journal: string | undefined },
): Promise<number> {
  const rootDir = resolve(config.storage.localDir);
  if (!existsSync(rootDir)) {
    console.error(`MEDIA_DIR ${rootDir} does not exist`);
    return 2;
  }
  // Beside the media directory, not in it: the journal is not an object to copy.
  const journalPath = resolve(opts.journal ?? `${rootDir}.migration.jsonl`);
  const s3 = config.storage.s3;
  const client = mediaS3Client(s3);
  const tty = Boolean(process.stdout.isTTY);
  const reporter = progressReporter(process.stdout);
  let last: Progress | undefined;
  try {
    const report = await migrateLocalToS3({
      rootDir,
      client,
      bucket: s3.bucket,
      timeoutMs: s3.timeoutMs,
      concurrency: opts.concurrency,
      journalPath,
      dryRun: opts.dryRun,
      verify: opts.verify,
      onProgress: (p) => {
        last = p;
        reporter.update(p);
      },
    });
    if (last) reporter.finish(last);
    if (!tty) {
      console.log(JSON.stringify({ type: "report", journal: journalPath, ...report }));
    } else {
      console.log(
        `${report.dryRun ? "dry run: " : ""}${report.objects} objects (${formatBytes(report.bytes)}) in ${rootDir}\n` +
          (report.dryRun
            ? `would copy ${report.wouldCopy} (${formatBytes(report.wouldCopyBytes ?? 0)}), already done ${report.skipped}\n`
            : `copied ${report.copied}, skipped ${report.skipped}, verified ${report.verified}, failed ${report.failed.length}\n`) +
          report.failed.map((f) => `  failed ${f.key}: ${f.reason}\n`).join("") +
          `journal: ${journalPath}`,
      );
    }
    return report.failed.length === 0 ? 0 : 1;
  } finally {
    client.destroy();
  }
}
