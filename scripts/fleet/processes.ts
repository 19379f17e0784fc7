/** The fleet's Bun processes: output to a log file each, ready when an HTTP endpoint answers 200, stopped by PID. */
import { closeSync, openSync } from "node:fs";
import { dirname, join } from "node:path";

const ROOT = dirname(dirname(import.meta.dir));

export type FleetProcess = {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  /** SIGTERM (the platform stopping a Machine), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
};

export async function startProcess(opts: {
  name: string;
  /** What follows `bun`: the bundle and its role, as fly.toml gives them. */
  argv: string[];
  env: Record<string, string>;
  readyUrl: string;
  logDir: string;
  timeoutMs?: number;
}): Promise<FleetProcess> {
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const fd = openSync(logFile, "a");
  const proc = Bun.spawn([process.execPath, ...opts.argv], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...opts.env },
    stdin: "ignore",
    stdout: fd,
    stderr: fd,
  });
  closeSync(fd);
  const exited = proc.exited.then(() => proc.exitCode);
  const stop = async (graceMs = 15_000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    const done = await Promise.race([exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
    if (!done) {
      proc.kill("SIGKILL");
      await exited;
    }
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null) {
      const log = await Bun.file(logFile).text();
      throw new Error(`${opts.name} exited with ${proc.exitCode} before it was ready:\n${log.slice(-3000)}`);
    }
    const res = await fetch(opts.readyUrl).catch(() => undefined);
    if (res?.ok) break;
    if (Date.now() > deadline) {
      await stop(1_000);
      throw new Error(`${opts.name} was not ready at ${opts.readyUrl} in time; log: ${logFile}`);
    }
    await Bun.sleep(50);
  }
  return { name: opts.name, pid: proc.pid, logFile, exited, stop };
}
