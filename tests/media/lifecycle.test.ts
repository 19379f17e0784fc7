import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { testEnv } from "../helpers/env.ts";
import { parseXml, type XmlElement } from "../helpers/xml.ts";
import { lifecycleSchemaErrors } from "./lifecycle-schema.ts";

const ROOT = dirname(dirname(import.meta.dir));
const BUCKET = "plant-media-lifecycle";

type Captured = { method: string; url: URL; headers: Headers; body: Uint8Array };

/** Stands in for the S3 endpoint on loopback: records each request exactly as it arrived and answers 200. */
let captured: Captured[] = [];
let endpoint: Bun.Server<undefined>;

beforeAll(() => {
  endpoint = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      captured.push({
        method: req.method,
        url: new URL(req.url),
        headers: req.headers,
        body: new Uint8Array(await req.arrayBuffer()),
      });
      return new Response(null, { status: 200 });
    },
  });
});

afterAll(() => {
  endpoint.stop(true);
});

async function runLifecycle(env: Record<string, string>, ...args: string[]) {
  const proc = Bun.spawn([process.execPath, "scripts/media/main.ts", "lifecycle", ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      NODE_ENV: "test",
      S3_BUCKET: BUCKET,
      S3_REGION: "eu-central-1",
      S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
      S3_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      S3_FORCE_PATH_STYLE: "true",
      S3_ENDPOINT: `http://127.0.0.1:${endpoint.port}`,
      ...env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

const child = (el: XmlElement, name: string) => el.children.find((c) => c.name === name);
const textAt = (el: XmlElement | undefined, ...path: string[]) =>
  path.reduce<XmlElement | undefined>((at, name) => at && child(at, name), el)?.text;

/** The rules by the prefix they filter on: prefix -> {expire days, transition days, class}. */
function rulesOf(xml: XmlElement) {
  return Object.fromEntries(
    xml.children.map((rule) => [
      textAt(rule, "Filter", "Prefix"),
      {
        id: textAt(rule, "ID"),
        status: textAt(rule, "Status"),
        expireDays: textAt(rule, "Expiration", "Days"),
        transitionDays: textAt(rule, "Transition", "Days"),
        storageClass: textAt(rule, "Transition", "StorageClass"),
        abortMultipartDays: textAt(rule, "AbortIncompleteMultipartUpload", "DaysAfterInitiation"),
      },
    ]),
  );
}

function crc32Base64(bytes: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(Bun.hash.crc32(bytes) >>> 0);
  return out.toString("base64");
}

describe("bun run media lifecycle", () => {
  test("sends PutBucketLifecycleConfiguration with a body that matches S3's documented schema", async () => {
    captured = [];
    const { code, stderr } = await runLifecycle({});
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(captured.length).toBe(1);
    const req = captured[0] as Captured;

    // PUT /{Bucket}?lifecycle (path-style addressing).
    expect(req.method).toBe("PUT");
    expect(req.url.pathname.replace(/\/$/, "")).toBe(`/${BUCKET}`);
    expect([...req.url.searchParams.keys()]).toEqual(["lifecycle"]);
    expect(req.headers.get("content-type")).toBe("application/xml");
    expect(Number(req.headers.get("content-length"))).toBe(req.body.byteLength);

    // S3 requires an integrity checksum on this call: Content-MD5, or a flexible x-amz-checksum-* header that
    // names its algorithm. Whichever is sent must be the checksum of these very bytes.
    const md5 = req.headers.get("content-md5");
    const algorithm = req.headers.get("x-amz-sdk-checksum-algorithm");
    expect(md5 !== null || algorithm !== null).toBe(true);
    if (md5 !== null) expect(md5).toBe(createHash("md5").update(req.body).digest("base64"));
    if (algorithm !== null) {
      expect(algorithm).toBe("CRC32");
      expect(req.headers.get("x-amz-checksum-crc32")).toBe(crc32Base64(req.body));
    }
    // Signed with SigV4 over the payload and over the checksum header, so neither can change on the way.
    expect(req.headers.get("x-amz-content-sha256")).toBe(createHash("sha256").update(req.body).digest("hex"));
    const authorization = req.headers.get("authorization") ?? "";
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-central-1\/s3\/aws4_request, /,
    );
    const signed = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
    expect(signed).toEqual(expect.arrayContaining(["host", "content-type", "x-amz-content-sha256"]));
    expect(signed).toContain(md5 !== null ? "content-md5" : "x-amz-checksum-crc32");

    const text = new TextDecoder().decode(req.body);
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const xml = parseXml(text);
    expect(lifecycleSchemaErrors(xml)).toEqual([]);
    expect(rulesOf(xml)).toEqual({
      "uploads/": {
        id: "expire-unclaimed-uploads",
        status: "Enabled",
        expireDays: "1",
        transitionDays: undefined,
        storageClass: undefined,
        abortMultipartDays: "1",
      },
      // Thumbnails live under identifications/<id>/ beside their original: the same rule ages both.
      "identifications/": {
        id: "originals-cold-then-expire",
        status: "Enabled",
        expireDays: "365",
        transitionDays: "90",
        storageClass: "STANDARD_IA",
        abortMultipartDays: undefined,
      },
      // Content-addressed photos: the same days, counted from their last use (a reuse writes them again).
      "photos/": {
        id: "photos-cold-then-expire",
        status: "Enabled",
        expireDays: "365",
        transitionDays: "90",
        storageClass: "STANDARD_IA",
        abortMultipartDays: undefined,
      },
    });
  });

  test("takes its days and storage class from the configuration", async () => {
    captured = [];
    const { code } = await runLifecycle({
      MEDIA_UPLOADS_EXPIRE_DAYS: "2",
      MEDIA_ORIGINALS_COLD_AFTER_DAYS: "30",
      MEDIA_ORIGINALS_COLD_STORAGE_CLASS: "GLACIER_IR",
      MEDIA_ORIGINALS_EXPIRE_DAYS: "730",
    });
    expect(code).toBe(0);
    const xml = parseXml(new TextDecoder().decode((captured[0] as Captured).body));
    expect(lifecycleSchemaErrors(xml)).toEqual([]);
    expect(rulesOf(xml)["uploads/"]).toMatchObject({ expireDays: "2", abortMultipartDays: "2" });
    expect(rulesOf(xml)["identifications/"]).toMatchObject({
      expireDays: "730",
      transitionDays: "30",
      storageClass: "GLACIER_IR",
    });
    expect(rulesOf(xml)["photos/"]).toMatchObject({
      expireDays: "730",
      transitionDays: "30",
      storageClass: "GLACIER_IR",
    });
  });

  test("--dry-run prints the exact request it would send and sends nothing", async () => {
    captured = [];
    const { code, stdout } = await runLifecycle({}, "--dry-run");
    expect(code).toBe(0);
    expect(captured).toEqual([]);
    expect(stdout).toContain(`would send: PUT http://127.0.0.1:${endpoint.port}/${BUCKET}`);
    expect(stdout).toContain("?lifecycle");
    expect(stdout).toContain("content-type: application/xml");
    expect(stdout).toMatch(/x-amz-checksum-crc32: \S+|content-md5: \S+/);
    expect(stdout).not.toContain("wJalrXUtnFEMI");
    const xml = parseXml(stdout.slice(stdout.indexOf("<?xml")).trim());
    expect(lifecycleSchemaErrors(xml)).toEqual([]);
    expect(Object.keys(rulesOf(xml)).sort()).toEqual(["identifications/", "photos/", "uploads/"]);
  });

  test("against the test S3 server, which does not implement lifecycle (501), it fails with a clear message", async () => {
    const s3 = testEnv.s3;
    const { code, stderr } = await runLifecycle({
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    });
    expect(code).toBe(1);
    expect(stderr).toContain("does not implement lifecycle configuration (501");
  });

  test("the schema check itself rejects what S3 would refuse, so a pass means something", () => {
    const bad = parseXml(
      '<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><Status>On</Status>' +
        "<Filter><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>" +
        "<Transition><Days>0</Days><StorageClass>COLD</StorageClass></Transition><Colour>green</Colour></Rule>" +
        "</LifecycleConfiguration>",
    );
    expect(lifecycleSchemaErrors(bad)).toEqual([
      'LifecycleConfiguration/Rule/Status: invalid value "On"',
      'LifecycleConfiguration/Rule/Transition/Days: invalid value "0"',
      'LifecycleConfiguration/Rule/Transition/StorageClass: invalid value "COLD"',
      "LifecycleConfiguration/Rule: <Colour> not allowed here",
      "Rule/Filter: more than one condition outside <And>",
    ]);
    expect(() => parseXml("<A><B></A></B>")).toThrow();
  });

  test("the configuration refuses rules S3 would refuse", () => {
    expect(() => parseConfig({ MEDIA_ORIGINALS_COLD_AFTER_DAYS: "400" })).toThrow(
      /MEDIA_ORIGINALS_EXPIRE_DAYS/,
    );
    expect(() => parseConfig({ MEDIA_ORIGINALS_COLD_AFTER_DAYS: "10" })).toThrow(/30 days/);
    expect(() =>
      parseConfig({
        MEDIA_ORIGINALS_COLD_AFTER_DAYS: "10",
        MEDIA_ORIGINALS_COLD_STORAGE_CLASS: "GLACIER_IR",
      }),
    ).not.toThrow();
  });
});
