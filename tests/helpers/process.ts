/**
 * A real child process (the API's or a worker's entry point) whose JSON log lines the test can read and wait
 * for. Stops with SIGTERM, then SIGKILL after a deadline.
 */
import { dirname } from "node:path";

const ROOT = dirname(dirname(import.meta.dir));

export type LogLine = Record<string, unknown> & { message?: string; level?: string };

export interface ChildProcess {
  readonly pid: number;
  readonly lines: LogLine[];
  /** Resolves once the process is gone and its output is read to the end, so no last line is missed. */
  readonly exited: Promise<number | null>;
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** The first log line (seen or future) that matches; rejects when the process exits first or at the deadline. */
  waitForLine(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL after `graceMs`; safe to call when it already exited. */
  stop(graceMs?: number): Promise<void>;
  output(): string;
}

export function spawnBun(entry: string, env: Record<string, string>, args: string[] = []): ChildProcess {
  const proc = Bun.spawn([process.execPath, entry, ...args], {
    cwd: ROOT,
    // Only what the test gives: no DATABASE_URL or the like leaking in from the machine.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        raw.push(text);
        try {
          lines.push(JSON.parse(text) as LogLine);
        } catch {
          // a stack trace or a runtime warning: kept in `raw` for failure messages
        }
      }
      notify();
    }
  };
  let ended = false;
  const exited = Promise.all([
    pump(proc.stdout as ReadableStream<Uint8Array>),
    pump(proc.stderr as ReadableStream<Uint8Array>),
    proc.exited,
  ]).then(() => {
    ended = true;
    notify();
    return proc.exitCode;
  });

  const waitForLine = (match: (line: LogLine) => boolean, what: string, timeoutMs = 30_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const finish = (err?: Error, line?: LogLine) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) reject(err);
        else resolve(line as LogLine);
      };
      const check = () => {
        const found = lines.find(match);
        if (found) return finish(undefined, found);
        if (ended) {
          finish(
            new Error(
              `${entry} exited (${proc.exitCode ?? proc.signalCode}) before ${what}:\n${raw.slice(-30).join("\n")}`,
            ),
          );
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out waiting for ${what}:\n${raw.slice(-30).join("\n")}`)),
        timeoutMs,
      );
      waiters.add(check);
      check();
    });

  return {
    pid: proc.pid,
    lines,
    exited,
    kill: (signal) => proc.kill(signal),
    waitForLine,
    output: () => raw.join("\n"),
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const done = await Promise.race([exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
      if (!done) {
        proc.kill("SIGKILL");
        await exited;
      }
    },
  };
}
