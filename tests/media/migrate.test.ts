import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { readJournal } from "../../scripts/media/migrate-journal.ts";
import { progressReporter } from "../../scripts/media/migrate-progress.ts";
import { waitFor } from "../helpers/app.ts";
import { testEnv } from "../helpers/env.ts";
import { s3Client, s3StorageEnv } from "../helpers/s3-bucket.ts";
import { type CountingS3Proxy, startCountingS3Proxy } from "../helpers/servers/counting-s3-proxy.ts";

const ROOT = dirname(dirname(import.meta.dir));
const FILES = 1_000;
const CONCURRENCY = 4;

let work: string;
let proxy: CountingS3Proxy;

type MediaDir = {
  dir: string;
  journal: string /** key -> SHA-256 (hex) of the local file. */;
  local: Map<string, string>;
};

const s3 = () => testEnv.s3;
const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

/** `n` files under a new media directory: originals, thumbnails and species images of 1–8 KB random bytes. */
async function makeMediaDir(n: number): Promise<MediaDir> {
  const dir = join(work, crypto.randomUUID(), "media");
  const local = new Map<string, string>();
  const run = crypto.randomUUID();
  for (let i = 0; i < n; i++) {
    const key =
      i % 10 === 9
        ? `species/${run}/${i}.webp`
        : `identifications/${run}-${Math.floor(i / 2)}/${i}${i % 2 ? ".thumb" : ""}.jpg`;
    const bytes = crypto.getRandomValues(new Uint8Array(1024 + ((i * 7919) % 7168)));
    await mkdir(dirname(join(dir, key)), { recursive: true });
    await writeFile(join(dir, key), bytes);
    local.set(key, sha256(bytes));
  }
  // Left behind by an unfinished write of the local driver: never an object to copy.
  await writeFile(join(dir, `${[...local.keys()][0]}.1234.partial`), "half");
  return { dir, journal: `${dir}.migration.jsonl`, local };
}

const totalPuts = () => [...proxy.completedPuts.values()].reduce((a, b) => a + b, 0);

function runMedia(mediaDir: string, args: string[]) {
  return Bun.spawn([process.execPath, "scripts/media/main.ts", ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      NODE_ENV: "test",
      MEDIA_DIR: mediaDir,
      ...s3StorageEnv(proxy.endpoint),
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

type Report = {
  type: "report";
  objects: number;
  copied: number;
  skipped: number;
  verified: number;
  failed: { key: string; reason: string }[];
  wouldCopy?: number;
};

async function runToEnd(
  mediaDir: string,
  args: string[],
): Promise<{ code: number; lines: Record<string, unknown>[]; stderr: string }> {
  const proc = runMedia(mediaDir, args);
  const [out, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const lines = out
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, stderr };
}

/** Straight to the S3 server, past the counting proxy. */
const directClient = s3Client;

async function bucketSha256(client: S3Client, key: string): Promise<string> {
  const got = await client.send(new GetObjectCommand({ Bucket: s3().bucket, Key: key }));
  if (!got.Body) throw new Error(`no body for ${key}`);
  return sha256(await got.Body.transformToByteArray());
}

const reportOf = (lines: Record<string, unknown>[]) => lines.find((l) => l.type === "report") as Report;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "plantc-migrate-"));
  proxy = startCountingS3Proxy(s3().endpoint, s3().bucket);
});

afterAll(async () => {
  proxy?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("bun run media migrate --from local --to s3", () => {
  test("a dry run lists what it would copy and sends nothing", async () => {
    const media = await makeMediaDir(20);
    const { code, lines } = await runToEnd(media.dir, [
      "migrate",
      "--from",
      "local",
      "--to",
      "s3",
      "--dry-run",
    ]);
    expect(code).toBe(0);
    const report = reportOf(lines);
    expect(report).toMatchObject({ objects: 20, wouldCopy: 20, copied: 0, skipped: 0, failed: [] });
    expect([...media.local.keys()].filter((key) => proxy.putHeaders.has(key))).toEqual([]);
  });

  test("killed with SIGKILL midway, a rerun finishes: every checksum equal, no object uploaded twice", async () => {
    // Freeze the first run after 100 uploads with 4 more in flight, then kill it: those 4 reach the bucket
    // only after the process is gone, so the journal never learns that they were stored.
    const { dir, journal, local } = await makeMediaDir(FILES);
    proxy.parkPutsAfter(totalPuts() + 100);
    const first = runMedia(dir, [
      "migrate",
      "--from",
      "local",
      "--to",
      "s3",
      "--concurrency",
      String(CONCURRENCY),
    ]);
    const firstOut = new Response(first.stdout).text();
    try {
      // A progress condition, not a time guess: on a loaded machine 100 uploads can take a minute.
      await waitFor(() => proxy.parked === CONCURRENCY, {
        timeoutMs: 240_000,
        what: "the first run to stall",
      });
    } finally {
      first.kill("SIGKILL");
    }
    expect(await first.exited).not.toBe(0);
    await proxy.forwardParked();

    const afterKill = readJournal(journal);
    expect(afterKill.done.size).toBeGreaterThanOrEqual(100 - CONCURRENCY);
    expect(afterKill.done.size).toBeLessThan(FILES);
    const inFlight = [...afterKill.started].filter((k) => !afterKill.done.has(k));
    expect(inFlight.length).toBe(CONCURRENCY);
    // The first run printed JSON progress lines (stdout is a pipe, not a terminal).
    const progress = (await firstOut)
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({ type: "progress", totalObjects: FILES });
    expect(progress[0]).toHaveProperty("bytesPerSecond");
    expect(progress[0]).toHaveProperty("etaSeconds");

    const rerun = await runToEnd(dir, [
      "migrate",
      "--from",
      "local",
      "--to",
      "s3",
      "--concurrency",
      String(CONCURRENCY),
    ]);
    expect(rerun.stderr).toBe("");
    expect(rerun.code).toBe(0);
    const report = reportOf(rerun.lines);
    expect(report.failed).toEqual([]);
    expect(report.copied + report.skipped).toBe(FILES);
    // Skipped: the journalled ones plus the in-flight ones found complete in the bucket.
    expect(report.skipped).toBe(afterKill.done.size + CONCURRENCY);

    // Nothing copied twice: the S3 server completed exactly one PUT for every object.
    expect([...local.keys()].filter((key) => proxy.completedPuts.get(key) !== 1)).toEqual([]);
    // Each PUT carried the file's SHA-256 as S3's ChecksumSHA256 (x-amz-checksum-sha256, base64).
    const wrongChecksum = [...local].filter(
      ([key, hex]) =>
        proxy.putHeaders.get(key)?.get("x-amz-checksum-sha256") !==
        Buffer.from(hex, "hex").toString("base64"),
    );
    expect(wrongChecksum).toEqual([]);

    // Every object in the bucket has the local file's SHA-256 (read straight from the S3 server).
    const client = directClient();
    const mismatched: string[] = [];
    const keys = [...local.keys()];
    for (let i = 0; i < keys.length; i += 20) {
      await Promise.all(
        keys.slice(i, i + 20).map(async (key) => {
          if ((await bucketSha256(client, key)) !== local.get(key)) mismatched.push(key);
        }),
      );
    }
    client.destroy();
    expect(mismatched).toEqual([]);
    const finalJournal = readJournal(journal);
    expect(finalJournal.done.size).toBe(FILES);
    expect([...finalJournal.done].every(([key, entry]) => entry.sha256 === local.get(key))).toBe(true);
  }, 600_000);

  test("--verify re-reads every object against its local checksum and copies a damaged one again", async () => {
    const media = await makeMediaDir(30);
    const args = ["migrate", "--from", "local", "--to", "s3"];
    expect((await runToEnd(media.dir, args)).code).toBe(0);
    // This test's own objects only: other runs may share the proxy.
    const putsOfMedia = () =>
      [...media.local.keys()].reduce((n, k) => n + (proxy.completedPuts.get(k) ?? 0), 0);
    const putsBefore = putsOfMedia();
    const key = [...media.local.keys()][0] as string;
    const client = directClient();
    await client.send(
      new PutObjectCommand({ Bucket: s3().bucket, Key: key, Body: new TextEncoder().encode("damaged") }),
    );
    const { code, lines } = await runToEnd(media.dir, [...args, "--verify"]);
    expect(code).toBe(0);
    expect(reportOf(lines)).toMatchObject({ objects: 30, copied: 1, skipped: 29, verified: 30, failed: [] });
    // The one damaged object was sent again, nothing else.
    expect(putsOfMedia()).toBe(putsBefore + 1);
    expect(await bucketSha256(client, key)).toBe(media.local.get(key) as string);
    client.destroy();
    expect(await readFile(media.journal, "utf8")).toContain(`"key":"${key}"`);
  }, 600_000);
});

describe("migration progress in a log (not a terminal)", () => {
  test("the first update is written at once, then at most one JSON line a second", () => {
    const written: string[] = [];
    // A process that has just started: its clock is near 0.
    let now = 5;
    const reporter = progressReporter({ isTTY: false, write: (s: string) => written.push(s) }, () => now);
    const p = {
      objects: 1,
      totalObjects: 10,
      bytes: 100,
      totalBytes: 1_000,
      copied: 1,
      skipped: 0,
      failed: 0,
      elapsedMs: 5,
    };
    reporter.update(p);
    now = 900;
    reporter.update({ ...p, objects: 2, copied: 2 }); // within the second: not written
    now = 1_010;
    reporter.update({ ...p, objects: 3, copied: 3 });
    expect(written.map((l) => (JSON.parse(l) as { objects: number }).objects)).toEqual([1, 3]);
    expect(JSON.parse(written[0]!)).toMatchObject({ type: "progress", totalObjects: 10 });
  });
});

describe("migration progress on a terminal", () => {
  test("the bar shows objects, bytes, rate and ETA, redrawn in place", () => {
    const written: string[] = [];
    const reporter = progressReporter({ isTTY: true, write: (s: string) => written.push(s) });
    const p = {
      objects: 250,
      totalObjects: 1000,
      bytes: 2 * 1024 * 1024,
      totalBytes: 8 * 1024 * 1024,
      copied: 250,
      skipped: 0,
      failed: 0,
      elapsedMs: 4000,
    };
    reporter.update(p, true);
    reporter.finish({ ...p, objects: 1000, bytes: p.totalBytes, copied: 1000, elapsedMs: 16_000 });
    expect(written[0]).toBe(
      "\r\x1b[2K[########----------------------] 25% 250/1000 objects 2.0 MB/8.0 MB 512.0 KB/s ETA 00:12",
    );
    expect(written[1]).toContain("100% 1000/1000 objects 8.0 MB/8.0 MB");
    expect(written[1]).toContain("ETA 00:00");
    expect(written.at(-1)).toBe("\n");
  });
});
