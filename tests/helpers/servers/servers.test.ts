/**
 * Tests of the test harness itself: the PostgreSQL primary/replica pair and the S3 server started by
 * scripts/test.ts (`npm test`), reached through the TEST_* environment variables.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import postgres from "postgres";
import { type PgPairControl, pgPairFromControlFile } from "./pg-pair.ts";
import { startPrometheus } from "./prometheus.ts";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through \`npm test\` (scripts/test.ts)`);
  return value;
}

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, idle_timeout: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    // postgres.js can hang in end() after failed connection attempts: always end with a timeout
    await sql.end({ timeout: 1 });
  }
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what} (last error: ${String(lastError)})`);
    await Bun.sleep(25);
  }
}

const table = `harness_probe_${process.pid}_${Date.now()}`;

async function rowOn(url: string, label: string): Promise<boolean> {
  return withSql(url, async (sql) => {
    const exists = await sql`select to_regclass(${table}) is not null as ok`;
    if (!exists[0]?.ok) return false;
    const rows = await sql`select 1 from ${sql(table)} where label = ${label}`;
    return rows.length === 1;
  });
}

async function insertOnPrimary(url: string, label: string): Promise<string> {
  return withSql(url, async (sql) => {
    await sql`insert into ${sql(table)} (label) values (${label})`;
    const [row] = await sql`select pg_current_wal_lsn()::text as lsn`;
    return String(row?.lsn);
  });
}

describe("the PostgreSQL primary and streaming replica", () => {
  let pair: PgPairControl;
  let primaryUrl: string;
  let replicaUrl: string;

  beforeAll(async () => {
    primaryUrl = env("TEST_DATABASE_URL");
    replicaUrl = env("TEST_DATABASE_REPLICA_URL");
    pair = pgPairFromControlFile(env("TEST_PG_PAIR_CONTROL"));
    await withSql(
      primaryUrl,
      (sql) => sql`create table ${sql(table)} (id serial primary key, label text not null)`,
    );
  });

  afterAll(async () => {
    // leave the replica running and replaying for the test files that follow, whatever happened above
    const replicaUp = await withSql(replicaUrl, (sql) => sql`select 1`).then(
      () => true,
      () => false,
    );
    if (!replicaUp) await pair.startReplica();
    await pair.resumeReplay();
    await withSql(primaryUrl, (sql) => sql`drop table if exists ${sql(table)}`);
    await pair.waitForCatchUp();
  });

  test("the replica is a hot standby and the primary is not", async () => {
    const [primary] = await withSql(primaryUrl, (sql) => sql`select pg_is_in_recovery() as standby`);
    const [replica] = await withSql(replicaUrl, (sql) => sql`select pg_is_in_recovery() as standby`);
    expect(primary?.standby).toBe(false);
    expect(replica?.standby).toBe(true);
  });

  test("a row inserted on the primary appears on the replica", async () => {
    await insertOnPrimary(primaryUrl, "streamed");
    await eventually("the row on the replica", async () =>
      (await rowOn(replicaUrl, "streamed")) ? true : undefined,
    );
  });

  test("while replay is paused a new row stays invisible on the replica until replay resumes", async () => {
    await pair.pauseReplay();
    const lsn = await insertOnPrimary(primaryUrl, "paused");
    expect(await rowOn(primaryUrl, "paused")).toBe(true);

    // the WAL with the row has reached the replica, but it is not applied
    await eventually("the replica to receive the WAL", async () => {
      const [row] = await withSql(
        replicaUrl,
        (sql) => sql`select pg_last_wal_receive_lsn() >= ${lsn}::pg_lsn as received`,
      );
      return row?.received ? true : undefined;
    });
    expect(await rowOn(replicaUrl, "paused")).toBe(false);

    await pair.resumeReplay();
    await eventually("the row after resume", async () =>
      (await rowOn(replicaUrl, "paused")) ? true : undefined,
    );
  });

  test("a stopped replica refuses connections and comes back with the rows written meanwhile", async () => {
    await pair.stopReplica();
    const error = await withSql(replicaUrl, (sql) => sql`select 1`).then(
      () => undefined,
      (err: unknown) => err as { code?: string },
    );
    expect(error?.code).toBe("ECONNREFUSED");

    await insertOnPrimary(primaryUrl, "while-down");
    await pair.startReplica();
    const [row] = await withSql(replicaUrl, (sql) => sql`select 1 as one`);
    expect(row?.one).toBe(1);
    await eventually("the row written while the replica was down", async () =>
      (await rowOn(replicaUrl, "while-down")) ? true : undefined,
    );
  });
});

describe("the S3 server", () => {
  let s3: S3Client;
  let bucket: string;
  const prefix = `harness-${process.pid}-${Date.now()}/`;

  beforeAll(() => {
    bucket = env("TEST_S3_BUCKET");
    s3 = new S3Client({
      endpoint: env("TEST_S3_ENDPOINT"),
      region: "us-east-1",
      forcePathStyle: true,
      credentials: {
        accessKeyId: env("TEST_S3_ACCESS_KEY_ID"),
        secretAccessKey: env("TEST_S3_SECRET_ACCESS_KEY"),
      },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  });

  afterAll(async () => {
    for (const name of ["a.txt", "list/1.txt", "list/2.txt"]) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}${name}` }));
    }
    s3.destroy();
  });

  test("the S3 server stores an object and returns the same bytes and content type", async () => {
    const body = "a fern, photographed at dawn";
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `${prefix}a.txt`, Body: body, ContentType: "text/plain" }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}a.txt` }));
    expect(got.ContentType).toBe("text/plain");
    expect(await got.Body?.transformToString()).toBe(body);
  });

  test("the S3 server lists objects page by page", async () => {
    const list = `${prefix}list/`;
    for (const name of ["1.txt", "2.txt"]) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${list}${name}`, Body: name }));
    }
    const first = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: list, MaxKeys: 1 }));
    expect(first.Contents?.map((o) => o.Key)).toEqual([`${list}1.txt`]);
    expect(first.IsTruncated).toBe(true);
    const second = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: list,
        MaxKeys: 1,
        ContinuationToken: first.NextContinuationToken,
      }),
    );
    expect(second.Contents?.map((o) => o.Key)).toEqual([`${list}2.txt`]);
    expect(second.IsTruncated).toBe(false);
  });
});

describe("the Prometheus helper", () => {
  test("Prometheus starts on loopback with a file-discovered scrape job and is gone after stop", async () => {
    const dir = await mkdtemp(join(tmpdir(), "plantc-prom-targets-"));
    const targetsFile = join(dir, "targets.json");
    await writeFile(
      targetsFile,
      JSON.stringify([{ targets: ["127.0.0.1:9"], labels: { service: "probe" } }]),
    );
    const prometheus = await startPrometheus({ targetsFile });
    try {
      expect(new URL(prometheus.url).hostname).toBe("127.0.0.1");
      const res = await fetch(`${prometheus.url}/api/v1/status/config`);
      expect(res.status).toBe(200);
      const { data } = (await res.json()) as { data: { yaml: string } };
      expect(data.yaml).toContain(targetsFile);
      expect(data.yaml).toContain("scrape_interval: 1s");
    } finally {
      await prometheus.stop();
      await rm(dir, { recursive: true, force: true });
    }
    await expect(fetch(`${prometheus.url}/-/ready`)).rejects.toThrow();
  });
});
