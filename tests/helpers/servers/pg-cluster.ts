/**
 * Low-level pieces of the throwaway PostgreSQL pair (see pg-pair.ts): running the server tools (as the
 * `postgres` OS user when we are root), psql queries, starting/stopping one cluster, and the initdb template.
 */
import { existsSync, readFileSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export interface NodeInfo {
  dataDir: string;
  port: number;
  logFile: string;
}

export interface ControlData {
  version: 1;
  ownerPid: number;
  baseDir: string;
  pgBin: string;
  pgCtl: string;
  psql: string;
  runAsPostgres: boolean;
  slot: string;
  primary: NodeInfo;
  replica: NodeInfo;
}

// ---------------------------------------------------------------------------------------------------------
// processes

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^PG(HOST|HOSTADDR|PORT|DATA|USER|DATABASE|SERVICE|OPTIONS|PASSWORD|APPNAME)$/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export async function run(
  cmd: string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: cleanEnv({ PGCONNECT_TIMEOUT: "3", LC_ALL: "C" }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

export function asPostgres(ctl: Pick<ControlData, "runAsPostgres">, cmd: string[]): string[] {
  return ctl.runAsPostgres ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
}

export async function mustRun(what: string, cmd: string[], cwd: string): Promise<RunResult> {
  const res = await run(cmd, { cwd });
  if (res.code !== 0) {
    throw new Error(`${what} failed (exit ${res.code}): ${cmd.join(" ")}\n${res.stdout}${res.stderr}`);
  }
  return res;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function postmasterPid(dataDir: string): number | undefined {
  try {
    const first = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0];
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

// ---------------------------------------------------------------------------------------------------------
// SQL via psql (no client library, nothing to hang on shutdown)

export async function psql(ctl: ControlData, port: number, sql: string, timeoutMs = 10_000): Promise<string> {
  const res = await run(
    [ctl.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port)].concat(
      ["-U", "postgres", "-d", "postgres", "-c", sql],
    ),
    { cwd: ctl.baseDir, timeoutMs },
  );
  if (res.code !== 0)
    throw new Error(`psql on port ${port} failed: ${res.stderr.trim() || res.stdout.trim()}`);
  return res.stdout.trim();
}

export async function waitFor<T>(
  what: string,
  deadlineMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${deadlineMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await Bun.sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------------------
// server control

export async function pgCtlStart(ctl: ControlData, node: NodeInfo): Promise<RunResult> {
  return run(
    asPostgres(ctl, [ctl.pgCtl, "start", "-w", "-t", "30", "-s", "-D", node.dataDir, "-l", node.logFile]),
    { cwd: ctl.baseDir, timeoutMs: 40_000 },
  );
}

/** Immediate stop; if the postmaster survives anyway, SIGKILL it. Never throws. */
export async function stopNode(ctl: ControlData, node: NodeInfo): Promise<void> {
  if (!existsSync(node.dataDir)) return;
  const pid = postmasterPid(node.dataDir);
  if (pid === undefined) return;
  await run(
    asPostgres(ctl, [ctl.pgCtl, "stop", "-m", "immediate", "-w", "-t", "20", "-s", "-D", node.dataDir]),
    {
      cwd: ctl.baseDir,
      timeoutMs: 25_000,
    },
  ).catch(() => undefined);
  if (isAlive(pid) && postmasterPid(node.dataDir) === pid) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Starts a freshly configured node, moving it to another free port if its port was taken meanwhile. */
export async function startNodeOnFreePort(ctl: ControlData, node: NodeInfo, label: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await appendConf(node.dataDir, "postgresql.auto.conf", { port: node.port });
    const res = await pgCtlStart(ctl, node);
    if (res.code === 0) return;
    const log = logTail(node.logFile);
    if (
      attempt < 4 &&
      /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(log)
    ) {
      node.port = await freePort();
      continue;
    }
    throw new Error(
      `starting the ${label} failed (exit ${res.code}): ${res.stderr.trim()}\n--- log ---\n${log}`,
    );
  }
}

export function confLines(settings: Record<string, string | number>): string {
  return `${Object.entries(settings)
    .map(([k, v]) => `${k} = ${typeof v === "number" ? v : `'${v.replaceAll("'", "''")}'`}`)
    .join("\n")}\n`;
}

export async function appendConf(dataDir: string, file: string, settings: Record<string, string | number>) {
  const path = join(dataDir, file);
  const before = existsSync(path) ? await readFile(path, "utf8") : "";
  await writeFile(
    path,
    `${before}${before.endsWith("\n") || before === "" ? "" : "\n"}${confLines(settings)}`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// initdb once, copy after: initdb is ~0.8 s idle and 2-3 s on a busy machine, a copy is ~50 ms

export const TEMPLATE_ROOT = "/var/tmp/plantc-pg-template";
export const INITDB_ARGS = [
  "-A",
  "trust",
  "-U",
  "postgres",
  "-E",
  "UTF8",
  "--locale=C",
  "--no-sync",
  "--no-instructions",
];

/** Returns the data directory of a cleanly shut down, freshly initdb'ed cluster, creating it on first use. */
export async function ensureTemplate(
  ctl: ControlData,
  owner: { uid: number; gid: number } | undefined,
): Promise<string> {
  const initdb = join(ctl.pgBin, "initdb");
  const version = (await mustRun("initdb --version", [initdb, "--version"], "/")).stdout.trim();
  const key = Bun.hash(`${initdb}\n${version}\n${INITDB_ARGS.join(" ")}`).toString(16);
  const ready = join(TEMPLATE_ROOT, key);
  if (existsSync(join(ready, "data", "PG_VERSION"))) return join(ready, "data");

  await mkdir(TEMPLATE_ROOT, { recursive: true, mode: 0o755 });
  const building = await mkdtemp(join(TEMPLATE_ROOT, `${key}.building-`));
  try {
    await chmod(building, 0o700);
    if (owner) await chown(building, owner.uid, owner.gid);
    await mustRun(
      "initdb",
      asPostgres(ctl, [initdb, "-D", join(building, "data"), ...INITDB_ARGS]),
      building,
    );
    // atomic publish; a concurrent run may have won the race, then ours is thrown away
    await rename(building, ready).catch(() => undefined);
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  if (!existsSync(join(ready, "data", "PG_VERSION")))
    throw new Error(`could not create the template in ${ready}`);
  return join(ready, "data");
}
