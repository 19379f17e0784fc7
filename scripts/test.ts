/**
 * Test orchestrator behind `npm test`.
 *
 * 1. Makes sure the system tools exist (prometheus/promtool via apt when root, node, PostgreSQL binaries).
 * 2. Starts a throwaway PostgreSQL primary + hot standby and an S3 server in parallel.
 * 3. Runs `bun test` (same bun binary) with the endpoints in TEST_* variables and any extra CLI arguments
 *    (`npm test -- tests/http`), teeing its output.
 * 4. Tears everything down (also on SIGINT/SIGTERM), prints `N passed, N failed` as the very last line and
 *    exits with bun test's exit code.
 *
 * Tests share the machine's Redis (DB 0, never flushed): namespace your keys.
 */
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { findPgBin, type PgPair, startPgPair } from "../tests/helpers/servers/pg-pair.ts";
import { type S3Server, startS3Server } from "../tests/helpers/servers/s3.ts";
import { generateSdk } from "./sdk.ts";

const ROOT = dirname(import.meta.dir);
// A deadline for a stuck test, not a timing assertion: worker end-to-end tests start several processes, which
// takes many seconds on a loaded machine.
const BUN_TEST_TIMEOUT_MS = 90_000;

const log = (msg: string) => process.stdout.write(`[test] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------------
// system tools

function pgrepPids(pattern: string): Map<number, string> {
  const res = Bun.spawnSync(["pgrep", "-a", "-f", pattern], { stdout: "pipe", stderr: "ignore" });
  const out = new Map<number, string>();
  for (const line of res.stdout.toString().split("\n")) {
    const m = /^(\d+)\s+(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out.set(Number(m[1]), m[2]);
  }
  return out;
}

/**
 * System tools the suite needs, each with the Debian package that provides it. Installed with apt-get when
 * missing and we are root. Add a line here when a test needs another system binary.
 */
const SYSTEM_TOOLS: { bin: string; pkg: string }[] = [
  { bin: "prometheus", pkg: "prometheus" },
  { bin: "promtool", pkg: "prometheus" },
  // the production image (tests/deploy/image.test.ts): built with buildah, run with podman on runc
  { bin: "buildah", pkg: "buildah" },
  { bin: "podman", pkg: "podman" },
  { bin: "runc", pkg: "runc" },
  { bin: "debootstrap", pkg: "debootstrap" },
  { bin: "openssl", pkg: "openssl" },
  // the local fleet (tests/deploy/fleet.test.ts): haproxy in front, its own Redis
  { bin: "haproxy", pkg: "haproxy" },
  { bin: "redis-server", pkg: "redis-server" },
  // the CSP browser test (tests/e2e/csp-browser.test.ts)
  { bin: "chromium", pkg: "chromium" },
];

async function ensureTools(): Promise<void> {
  const missingTools = SYSTEM_TOOLS.filter((t) => !Bun.which(t.bin));
  const packages = [...new Set(missingTools.map((t) => t.pkg))];
  if (packages.length > 0) {
    if (process.getuid?.() !== 0) {
      throw new Error(
        `missing system tools: ${missingTools.map((t) => t.bin).join(", ")}. Install them as root: apt-get install -y ${packages.join(" ")}`,
      );
    }
    log(`installing ${packages.join(", ")} (apt-get install)`);
    const before = pgrepPids("prometheus");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const cmd of [
      ["apt-get", "update", "-qq"],
      ["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...packages],
    ]) {
      const proc = Bun.spawn(cmd, { env, stdin: "ignore", stdout: "inherit", stderr: "inherit" });
      if ((await proc.exited) !== 0) throw new Error(`${cmd.join(" ")} failed`);
    }
    // the package may start its services (prometheus, node exporter): stop what the install started
    for (const [pid, cmd] of pgrepPids("prometheus")) {
      if (before.has(pid) || pid === process.pid || cmd.includes("plantc-") || cmd.includes("pgrep"))
        continue;
      log(`stopping daemon started by the install: ${pid} ${cmd}`);
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
  if (!Bun.which("node")) throw new Error("node is not in PATH (the S3 test server runs under Node)");
  findPgBin(); // throws with a clear message when PostgreSQL is missing
  if (process.getuid?.() === 0 && !Bun.which("runuser")) throw new Error("runuser (util-linux) is missing");
}

function checkRedis(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    let host = "127.0.0.1";
    let port = 6379;
    try {
      const u = new URL(url);
      host = u.hostname || host;
      port = Number(u.port) || port;
    } catch {
      // keep the defaults
    }
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

// ---------------------------------------------------------------------------------------------------------
// bun test output

export function summarize(stderrTail: string, exitCode: number): { passed: number; failed: number } {
  const lines = Bun.stripANSI(stderrTail).split(/\r?\n/);
  let end = lines.length;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^\s*Ran \d+ tests? across/.test(lines[i] ?? "")) {
      end = i;
      break;
    }
  }
  const window = end === lines.length ? lines : lines.slice(Math.max(0, end - 12), end);
  const last = (re: RegExp): number => {
    let value = 0;
    for (const line of window) {
      const m = re.exec(line);
      if (m?.[1]) value = Number(m[1]);
    }
    return value;
  };
  const passed = last(/^\s*(\d+) pass\s*$/);
  let failed = last(/^\s*(\d+) fail\s*$/) + last(/^\s*(\d+) errors?\s*$/);
  if (exitCode !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

async function tee(stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream, keep?: { text: string }) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    out.write(chunk);
    if (keep) {
      keep.text += decoder.decode(chunk, { stream: true });
      if (keep.text.length > 512_000) keep.text = keep.text.slice(-256_000);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// main

let pair: PgPair | undefined;
let s3: S3Server | undefined;
let child: ReturnType<typeof Bun.spawn> | undefined;
let interrupted: NodeJS.Signals | undefined;
let tearingDown: Promise<void> | undefined;

function teardown(): Promise<void> {
  tearingDown ??= (async () => {
    const started = Date.now();
    await Promise.allSettled([pair?.stop(), s3?.stop()]);
    log(`test servers stopped in ${Date.now() - started} ms`);
  })();
  return tearingDown;
}

function finish(passed: number, failed: number, code: number): never {
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exit(code);
}

async function main(): Promise<never> {
  // a reader that goes away (`npm test | head`) must not kill us before the teardown
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = sig;
      log(`received ${sig}, stopping`);
      // with bun test running, killing it lets the main flow tear down; before that, main checks the flag
      child?.kill(sig);
    });
  }

  try {
    await ensureTools();
  } catch (err) {
    process.stderr.write(`[test] ${(err as Error).message}\n`);
    finish(0, 1, 1);
  }

  // The mobile journey (tests/sdk/) is written against the SDK generated from the live document: make it first.
  const selected = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  if (
    selected.length === 0 ||
    selected.some((a) => a.startsWith("tests/sdk") || /^(\.\/)?tests\/?$/.test(a))
  ) {
    try {
      const t = Date.now();
      await generateSdk();
      log(`SDK generated in ${((Date.now() - t) / 1000).toFixed(2)} s`);
    } catch (err) {
      process.stderr.write(`[test] could not generate the SDK: ${(err as Error).message}\n`);
      finish(0, 1, 1);
    }
  }

  const startedAt = Date.now();
  const timed = async <T>(name: string, start: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    const value = await start();
    log(`${name} ready in ${((Date.now() - t) / 1000).toFixed(2)} s`);
    return value;
  };
  const [pairResult, s3Result] = await Promise.allSettled([
    timed("PostgreSQL primary + replica", () => startPgPair()),
    timed("S3 server", () => startS3Server({ bucket: "plant-media" })),
  ]);
  if (pairResult.status === "fulfilled") pair = pairResult.value;
  if (s3Result.status === "fulfilled") s3 = s3Result.value;
  const failures = [pairResult, s3Result].filter((r) => r.status === "rejected");
  if (failures.length > 0 || interrupted) {
    for (const f of failures)
      process.stderr.write(`[test] could not start test servers: ${String(f.reason)}\n`);
    await teardown();
    finish(0, 1, interrupted ? 130 : 1);
  }
  if (!pair || !s3) throw new Error("unreachable");
  log(`test servers up in ${((Date.now() - startedAt) / 1000).toFixed(2)} s`);

  const redisUrl = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
  if (!(await checkRedis(redisUrl)))
    log(`warning: Redis at ${redisUrl} does not answer; Redis tests will fail`);

  const env: Record<string, string | undefined> = {
    ...process.env,
    TEST_DATABASE_URL: pair.primaryUrl,
    TEST_DATABASE_REPLICA_URL: pair.replicaUrl,
    TEST_PG_PAIR_CONTROL: pair.controlFile,
    TEST_REDIS_URL: redisUrl,
    TEST_S3_ENDPOINT: s3.endpoint,
    TEST_S3_BUCKET: s3.bucket,
    TEST_S3_REGION: s3.region,
    TEST_S3_ACCESS_KEY_ID: s3.accessKeyId,
    TEST_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };

  let exitCode = 1;
  const stderrTail = { text: "" };
  try {
    const args = [
      process.execPath,
      "test",
      "--timeout",
      String(BUN_TEST_TIMEOUT_MS),
      ...process.argv.slice(2),
    ];
    child = Bun.spawn(args, { cwd: ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const proc = child;
    await Promise.all([
      tee(proc.stdout as ReadableStream<Uint8Array>, process.stdout),
      tee(proc.stderr as ReadableStream<Uint8Array>, process.stderr, stderrTail),
      proc.exited,
    ]);
    const signalNumbers: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
    exitCode = proc.exitCode ?? 128 + (signalNumbers[proc.signalCode ?? ""] ?? 1);
  } finally {
    await teardown();
  }
  const { passed, failed } = summarize(stderrTail.text, exitCode);
  finish(passed, failed, exitCode);
}

if (import.meta.main) {
  if (!existsSync(join(ROOT, "package.json"))) throw new Error(`unexpected repo root ${ROOT}`);
  main().catch(async (err) => {
    process.stderr.write(`[test] ${(err as Error).stack ?? String(err)}\n`);
    await teardown();
    finish(0, 1, 1);
  });
}
