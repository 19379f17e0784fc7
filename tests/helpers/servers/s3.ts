/**
 * Throwaway S3 server (s3rver) for tests.
 *
 * s3rver runs under **Node** (paged listing fails under Bun) with `--openssl-legacy-provider`, bound to
 * 127.0.0.1 on a port the kernel picks, with its own temp directory and the bucket created at start.
 * The Node process watches its stdin: when the process that started it dies, the pipe closes and the server
 * exits and removes its directory, so nothing is left behind even after a SIGKILL of the test run.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: "S3RVER";
  secretAccessKey: "S3RVER";
  region: string;
  stop(): Promise<void>;
}

export interface StartS3ServerOptions {
  bucket?: string;
  timeoutMs?: number;
}

const WRAPPER = `
process.title = "s3rver-plantc";
const fs = require("fs");
const cfg = JSON.parse(process.env.PLANTC_S3RVER_CONFIG);
const S3rver = require(cfg.main);
let closing = false;
function shutdown(code) {
  if (closing) return;
  closing = true;
  try { fs.rmSync(cfg.directory, { recursive: true, force: true }); } catch {}
  process.exit(code);
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));
process.stdin.on("end", () => shutdown(0));
process.stdin.on("error", () => shutdown(0));
process.stdin.resume();
new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory: cfg.directory,
  vhostBuckets: false,
  configureBuckets: cfg.buckets.map((name) => ({ name, configs: [] })),
}).run().then(
  ({ address, port }) => process.stdout.write(JSON.stringify({ address, port }) + "\\n"),
  (err) => { console.error(err); shutdown(1); },
);
`;

async function readFirstLine(stream: ReadableStream<Uint8Array>, deadline: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error("timed out waiting for s3rver to listen");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out waiting for s3rver to listen")), remaining);
        }),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) throw new Error("s3rver exited before listening");
      buffer += decoder.decode(chunk.value, { stream: true });
      const nl = buffer.indexOf("\n");
      if (nl >= 0) return buffer.slice(0, nl);
    }
  } finally {
    reader.releaseLock();
  }
}

async function drain(stream: ReadableStream<Uint8Array>, sink: string[]): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) {
      sink.push(decoder.decode(chunk));
      if (sink.length > 200) sink.splice(0, sink.length - 200);
    }
  } catch {
    // process gone
  }
}

export async function startS3Server(opts: StartS3ServerOptions = {}): Promise<S3Server> {
  const bucket = opts.bucket ?? "plant-media";
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  const node = Bun.which("node");
  if (!node) throw new Error("node is not in PATH; s3rver must run under Node");
  const main = Bun.resolveSync("s3rver", import.meta.dir);
  const directory = await mkdtemp(join(tmpdir(), "plantc-s3-"));

  const proc = Bun.spawn([node, "--openssl-legacy-provider", "-e", WRAPPER], {
    cwd: directory,
    env: { ...process.env, PLANTC_S3RVER_CONFIG: JSON.stringify({ main, directory, buckets: [bucket] }) },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderr: string[] = [];
  void drain(proc.stderr, stderr);

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3_000).then(() => false)]);
      if (!exited) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
    }
    await rm(directory, { recursive: true, force: true });
  };

  try {
    const line = await readFirstLine(proc.stdout, deadline);
    void drain(proc.stdout, []);
    const { port } = JSON.parse(line) as { port: number };
    const endpoint = `http://127.0.0.1:${port}`;
    // wait until it really answers, bucket included
    for (;;) {
      try {
        const res = await fetch(`${endpoint}/${bucket}`, { method: "HEAD" });
        if (res.status === 200) break;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`s3rver on ${endpoint} did not answer for bucket ${bucket}`);
      await Bun.sleep(20);
    }
    return {
      endpoint,
      bucket,
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
      region: "us-east-1",
      stop,
    };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${stderr.join("")}`);
  }
}
