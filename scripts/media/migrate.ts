import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import {
  ChecksumMode,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { assertSafeKey, contentTypeOf, IMMUTABLE_CACHE_CONTROL } from "../../src/infra/storage/blob-store.ts";
import { type JournalState, openJournal, readJournal } from "./migrate-journal.ts";
import type { Progress } from "./migrate-progress.ts";

export type MigrationOptions = {
  rootDir: string;
  client: S3Client;
  bucket: string;
  timeoutMs: number;
  concurrency: number;
  journalPath: string;
  dryRun: boolean;
  /** Also re-read every object already in the journal and compare its SHA-256 with the local file. */
  verify: boolean;
  onProgress(p: Progress): void;
};

export type MigrationReport = {
  dryRun: boolean;
  objects: number;
  bytes: number;
  /** Sent to the bucket by this run (each verified after upload). */
  copied: number;
  /** Already there: in the journal, or found complete in the bucket after a killed run. */
  skipped: number;
  /** --verify: objects whose copy in the bucket was read back and matched. */
  verified: number;
  failed: { key: string; reason: string }[];
  /** --dry-run: what a real run would send. */
  wouldCopy?: number;
  wouldCopyBytes?: number;
};

type LocalObject = { key: string; path: string; size: number };

/** Every file under the media directory, skipping the `.partial` files of unfinished writes and dotfiles. */
async function listLocal(rootDir: string): Promise<{ objects: LocalObject[]; invalid: string[] }> {
  const entries = await readdir(rootDir, { recursive: true, withFileTypes: true });
  const objects: LocalObject[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const key = relative(rootDir, path).split(sep).join("/");
    if (entry.name.endsWith(".partial") || key.split("/").some((s) => s.startsWith("."))) continue;
    try {
      assertSafeKey(key);
    } catch {
      invalid.push(key);
      continue;
    }
    objects.push({ key, path, size: (await Bun.file(path).stat()).size });
  }
  objects.sort((a, b) => (a.key < b.key ? -1 : 1));
  return { objects, invalid };
}

function sha256(bytes: Uint8Array): { hex: string; base64: string } {
  const digest = new Bun.CryptoHasher("sha256").update(bytes).digest();
  return { hex: digest.toString("hex"), base64: digest.toString("base64") };
}

function reasonOf(err: unknown): string {
  if (err instanceof S3ServiceException)
    return `${err.$metadata.httpStatusCode ?? "?"} ${err.name}: ${err.message}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === "NotFound")
  );
}

/**
 * Copies every object of the local media directory into the bucket: SHA-256 sent as `ChecksumSHA256` (S3
 * rejects a body that does not match it) and compared again after the upload, from the checksum the store
 * reports (HeadObject, ChecksumMode ENABLED) or, for stores that report none (s3rver, several S3-compatible
 * servers), by reading the object back. At most `concurrency` objects in flight; resumable via the journal.
 */
export async function migrateLocalToS3(opts: MigrationOptions): Promise<MigrationReport> {
  const { objects, invalid } = await listLocal(opts.rootDir);
  const state = readJournal(opts.journalPath);
  const report: MigrationReport = {
    dryRun: opts.dryRun,
    objects: objects.length,
    bytes: objects.reduce((n, o) => n + o.size, 0),
    copied: 0,
    skipped: 0,
    verified: 0,
    failed: invalid.map((key) => ({ key, reason: "not a valid storage key (left out)" })),
  };
  if (opts.dryRun) return dryRunReport(report, objects, state);

  const started = performance.now();
  let objectsDone = 0;
  let bytesDone = 0;
  const progress = (): Progress => ({
    objects: objectsDone,
    totalObjects: objects.length,
    bytes: bytesDone,
    totalBytes: report.bytes,
    copied: report.copied,
    skipped: report.skipped,
    failed: report.failed.length,
    elapsedMs: Math.round(performance.now() - started),
  });
  const journal = openJournal(opts.journalPath);
  const deadline = () => ({ abortSignal: AbortSignal.timeout(opts.timeoutMs) });

  /** The SHA-256 (hex) of the object in the bucket, undefined when it is not there. */
  async function remoteSha256(key: string, size: number): Promise<string | undefined> {
    try {
      const head = await opts.client.send(
        new HeadObjectCommand({ Bucket: opts.bucket, Key: key, ChecksumMode: ChecksumMode.ENABLED }),
        deadline(),
      );
      if (head.ContentLength !== size) return `size:${head.ContentLength}`;
      // A full-object SHA-256 reported by the store; a composite one ("…-N", multipart) cannot be compared.
      if (head.ChecksumSHA256 && !head.ChecksumSHA256.includes("-")) {
        return Buffer.from(head.ChecksumSHA256, "base64").toString("hex");
      }
      const got = await opts.client.send(new GetObjectCommand({ Bucket: opts.bucket, Key: key }), deadline());
      if (!got.Body) return undefined;
      return sha256(await got.Body.transformToByteArray()).hex;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async function upload(object: LocalObject, bytes: Uint8Array, sum: { hex: string; base64: string }) {
    journal.start(object.key);
    await opts.client.send(
      new PutObjectCommand({
        Bucket: opts.bucket,
        Key: object.key,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ContentType: contentTypeOf(object.key),
        CacheControl: IMMUTABLE_CACHE_CONTROL,
        ChecksumSHA256: sum.base64,
      }),
      deadline(),
    );
    const remote = await remoteSha256(object.key, bytes.byteLength);
    if (remote !== sum.hex)
      throw new Error(`checksum mismatch after upload (bucket: ${remote ?? "missing"})`);
    journal.done(object.key, sum.hex, bytes.byteLength);
    report.copied++;
  }

  async function migrateOne(object: LocalObject, journalled: JournalState) {
    const done = journalled.done.get(object.key);
    if (done && done.size === object.size && !opts.verify) {
      report.skipped++;
      return;
    }
    const bytes = new Uint8Array(await readFile(object.path));
    const sum = sha256(bytes);
    if (done && done.sha256 === sum.hex) {
      // --verify: read the bucket's copy back; a missing or different copy is sent again.
      if ((await remoteSha256(object.key, bytes.byteLength)) === sum.hex) {
        report.skipped++;
        report.verified++;
        return;
      }
    } else if (journalled.started.has(object.key) && !done) {
      // Killed while this one was in flight: its PUT may have completed. Check before sending it again.
      if ((await remoteSha256(object.key, bytes.byteLength)) === sum.hex) {
        journal.done(object.key, sum.hex, bytes.byteLength);
        report.skipped++;
        if (opts.verify) report.verified++;
        return;
      }
    }
    await upload(object, bytes, sum);
    if (opts.verify) report.verified++;
  }

  try {
    let next = 0;
    const worker = async () => {
      while (next < objects.length) {
        const object = objects[next++] as LocalObject;
        try {
          await migrateOne(object, state);
        } catch (err) {
          report.failed.push({ key: object.key, reason: reasonOf(err) });
        }
        objectsDone++;
        bytesDone += object.size;
        opts.onProgress(progress());
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, objects.length) }, worker));
  } finally {
    journal.close();
  }
  return report;
}

function dryRunReport(report: MigrationReport, objects: LocalObject[], state: JournalState): MigrationReport {
  const pending = objects.filter((o) => state.done.get(o.key)?.size !== o.size);
  return {
    ...report,
    skipped: objects.length - pending.length,
    wouldCopy: pending.length,
    wouldCopyBytes: pending.reduce((n, o) => n + o.size, 0),
  };
}
