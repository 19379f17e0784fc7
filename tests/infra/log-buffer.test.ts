import { describe, expect, test } from "bun:test";
import { lineBuffer } from "../../src/infra/log-buffer.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

function recordingSink() {
  const writes: string[] = [];
  return { writes, sink: { write: (chunk: string) => writes.push(chunk), flush() {}, flushSync() {} } };
}

describe("log line buffer", () => {
  test("lines are handed on together, in order, once the threshold is reached", () => {
    const { writes, sink } = recordingSink();
    const buffer = lineBuffer(sink, 30);
    buffer.write('{"n":1}\n');
    buffer.write('{"n":2}\n');
    expect(writes).toEqual([]);
    buffer.write('{"n":3,"pad":"xxxxxx"}\n');
    expect(writes).toEqual(['{"n":1}\n{"n":2}\n{"n":3,"pad":"xxxxxx"}\n']);
  });

  test("a flush hands on what is pending, and nothing when nothing is", () => {
    const { writes, sink } = recordingSink();
    const buffer = lineBuffer(sink, 1_000);
    buffer.flush();
    buffer.write("a\n");
    buffer.flush();
    buffer.flush();
    expect(writes).toEqual(["a\n"]);
  });

  test("the API's logger writes every line, warnings at once and the rest by the exit at the latest", async () => {
    // A real process with the API's buffering: 200 info lines (well below the buffer of the last batch), then
    // a warning, then more info lines and a plain exit.
    const script = `
      import { createLogger } from "./src/infra/logger.ts";
      const log = createLogger("info", undefined, { bufferBytes: 8192, flushIntervalMs: 60_000 });
      for (let i = 0; i < 200; i++) log.info({ i }, "request");
      log.warn("slow");
      for (let i = 200; i < 205; i++) log.info({ i }, "request");
      process.exit(0);
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "inherit",
    });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    const lines = out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.message === "request").map((l) => l.i)).toEqual(
      Array.from({ length: 205 }, (_, i) => i),
    );
    expect(lines.find((l) => l.message === "slow")).toMatchObject({ level: "warn" });
    expect(lines[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
