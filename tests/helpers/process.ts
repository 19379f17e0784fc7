/**
 * A real child process (the API's or a worker's entry point) whose JSON log lines the test can read and wait
 * for. Stops with SIGTERM, then SIGKILL after a deadline.
 */
import { dirname } from "node:path";

const ROOT = dirname(dirname(import.meta.dir));

export type LogLine = Record<string, unknown> & { message?: string; level?: string };

export interface ChildProcess {
  readonly lines: LogLine[];
  /** Resolves with the first log line (already seen or future) that matches; rejects on exit or deadline. */
  waitForLine(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<void>;
}

export function spawnBun(entry: string, env: Record<string, string>): ChildProcess {
  const proc = Bun.spawn([process.execPath, entry], {
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
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        raw.push(text);
        try {
          lines.push(JSON.parse(text) as LogLine);
        } catch {
          // not a log line (a crash trace); kept in `raw` for the error message
        }
        nl = buffered.indexOf("\n");
      }
      notify();
    }
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  void proc.exited.then(notify);

  return {
    lines,
    waitForLine(match, what, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), timeoutMs);
        const check = () => {
          const found = lines.find(match);
          if (found) return finish(undefined, found);
          if (proc.exitCode !== null || proc.signalCode !== null) {
            finish(
              new Error(
                `${entry} exited (${proc.exitCode ?? proc.signalCode}) before ${what}:\n${raw.slice(-20).join("\n")}`,
              ),
            );
          }
        };
        function finish(err?: Error, line?: LogLine) {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(line as LogLine);
        }
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!exited) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
    },
  };
}
