/**
 * Throwaway PostgreSQL primary + streaming hot standby for tests.
 *
 * Both data directories live under a fresh `/dev/shm/plantc-pg-<random>/`, listen on 127.0.0.1 only (free
 * ports) and keep their unix sockets inside that directory. The pair is described by a small JSON control file
 * (`<dir>/control.json`) so another process (a test) can stop/start the replica or pause replay itself via
 * `pgPairFromControlFile(path)`.
 *
 * As root, every server tool runs as the `postgres` OS user (`runuser -u postgres -- ...`); as any other user
 * the tools run directly as that user.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import {
  appendConf,
  asPostgres,
  type ControlData,
  ensureTemplate,
  isAlive,
  logTail,
  mustRun,
  pgCtlStart,
  postmasterPid,
  psql,
  startNodeOnFreePort,
  stopNode,
  waitFor,
} from "./pg-cluster.ts";

export interface PgPairControl {
  primaryUrl: string;
  replicaUrl: string;
  primaryPort: number;
  replicaPort: number;
  /** Stops the standby immediately (like a crash, without SIGKILL's restart delay). */
  stopReplica(): Promise<void>;
  /** Starts the standby again (retrying for ~5 s) and waits until it accepts connections. */
  startReplica(): Promise<void>;
  /** `pg_wal_replay_pause()` on the standby: WAL still arrives but is not applied (deterministic lag). */
  pauseReplay(): Promise<void>;
  /** `pg_wal_replay_resume()` on the standby. */
  resumeReplay(): Promise<void>;
  /** Waits until the standby has replayed everything the primary has written so far. */
  waitForCatchUp(timeoutMs?: number): Promise<void>;
  /** Stops the primary immediately (a crash: clients see their connections drop and new ones refused). */
  stopPrimary(): Promise<void>;
  /** Starts the primary again (retrying for ~5 s) and waits until it accepts connections. */
  startPrimary(): Promise<void>;
  /**
   * SIGSTOP (freeze) or SIGCONT (thaw) the primary's postmaster and every backend: a server that keeps its
   * sockets open and answers nothing, like a host that hangs or a network that drops packets.
   */
  signalPrimary(signal: "SIGSTOP" | "SIGCONT"): Promise<void>;
}

export interface PgPair extends PgPairControl {
  /** Path of the JSON control file (inside `baseDir`); hand it to another process via TEST_PG_PAIR_CONTROL. */
  controlFile: string;
  baseDir: string;
  /** Stops both servers immediately and removes the temp directory. */
  stop(): Promise<void>;
}

export interface StartPgPairOptions {
  /** Directory holding initdb, pg_ctl, pg_basebackup, psql. Default: $PG_BIN or the newest /usr/lib/postgresql/N/bin. */
  pgBin?: string;
  sharedBuffers?: string;
  maxConnections?: number;
  /** Deadline for the standby to stream after the start (each step also has its own timeout); default 30 s. */
  timeoutMs?: number;
  /**
   * Commits wait for their WAL to be written (synchronous_commit on), so a crash of the primary loses no
   * acknowledged commit: what the fault drills need to count lost work. Off by default (faster tests).
   */
  durableCommits?: boolean;
}

const SHM_ROOT = "/dev/shm";
const DIR_PREFIX = "plantc-pg-";
const SLOT = "plantc_standby";

function urlFor(port: number): string {
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

function makeControl(ctl: ControlData): PgPairControl {
  const startNode = async (node: typeof ctl.primary, label: string) => {
    // After a crash-like stop, pg_ctl start can fail for a short while: retry for ~5 s.
    const deadline = Date.now() + 5_000;
    for (;;) {
      const res = await pgCtlStart(ctl, node);
      if (res.code === 0) break;
      if (Date.now() > deadline) {
        throw new Error(
          `starting the ${label} failed (exit ${res.code}): ${res.stderr.trim()}\n${logTail(node.logFile)}`,
        );
      }
      await Bun.sleep(150);
    }
    await waitFor(`the ${label} to accept connections`, 15_000, async () =>
      (await psql(ctl, node.port, "select 1", 3_000)) === "1" ? true : undefined,
    );
  };
  const control: PgPairControl = {
    primaryUrl: urlFor(ctl.primary.port),
    replicaUrl: urlFor(ctl.replica.port),
    primaryPort: ctl.primary.port,
    replicaPort: ctl.replica.port,

    async stopReplica() {
      await stopNode(ctl, ctl.replica);
      await waitFor("the replica to stop", 10_000, async () =>
        postmasterPid(ctl.replica.dataDir) === undefined ? true : undefined,
      );
    },

    startReplica: () => startNode(ctl.replica, "replica"),

    async stopPrimary() {
      await stopNode(ctl, ctl.primary);
      await waitFor("the primary to stop", 10_000, async () =>
        postmasterPid(ctl.primary.dataDir) === undefined ? true : undefined,
      );
    },

    startPrimary: () => startNode(ctl.primary, "primary"),

    async signalPrimary(signal) {
      const pid = postmasterPid(ctl.primary.dataDir);
      if (pid === undefined) throw new Error("the primary is not running");
      const children = Bun.spawnSync(["pgrep", "-P", String(pid)], { stdout: "pipe" })
        .stdout.toString()
        .split("\n")
        .map(Number)
        .filter((n) => Number.isInteger(n) && n > 0);
      // The postmaster first when freezing (no new backends), last when thawing.
      const order = signal === "SIGSTOP" ? [pid, ...children] : [...children, pid];
      for (const p of order) {
        try {
          process.kill(p, signal);
        } catch {
          // a backend that just exited
        }
      }
    },

    async pauseReplay() {
      await psql(ctl, ctl.replica.port, "select pg_wal_replay_pause()");
    },

    async resumeReplay() {
      await psql(ctl, ctl.replica.port, "select pg_wal_replay_resume()");
    },

    async waitForCatchUp(timeoutMs = 10_000) {
      // The insert position: with synchronous_commit off a commit's record can still sit in the WAL buffers,
      // behind the write position, and the API records insert positions after its writes (read-routing.ts).
      const lsn = await psql(ctl, ctl.primary.port, "select pg_current_wal_insert_lsn()");
      await waitFor(`the replica to replay up to ${lsn}`, timeoutMs, async () =>
        (await psql(ctl, ctl.replica.port, `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn`, 3_000)) ===
        "t"
          ? true
          : undefined,
      );
    },
  };
  return control;
}

// ---------------------------------------------------------------------------------------------------------
// public API

/** Finds the PostgreSQL server binaries: $PG_BIN, the newest /usr/lib/postgresql/N/bin, or initdb in PATH. */
export function findPgBin(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, "initdb"))) return fromEnv;
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], "bin");
  }
  const initdb = Bun.which("initdb");
  if (initdb) return initdb.replace(/\/initdb$/, "");
  throw new Error("PostgreSQL server binaries (initdb, pg_ctl) not found; set PG_BIN");
}

/** Reads a control file written by `startPgPair` and returns the replica controls for that pair. */
export function pgPairFromControlFile(path: string): PgPairControl {
  const ctl = JSON.parse(readFileSync(path, "utf8")) as ControlData;
  if (ctl.version !== 1) throw new Error(`unknown pg pair control file version in ${path}`);
  return makeControl(ctl);
}

/**
 * Stops and removes pairs left behind by processes that died without tearing down (SIGKILL, OOM, crash).
 * Only touches directories whose owner process is gone, so concurrent runs are safe.
 */
export async function sweepStalePgPairs(): Promise<number> {
  let removed = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(SHM_ROOT).filter((e) => e.startsWith(DIR_PREFIX));
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const dir = join(SHM_ROOT, entry);
    const file = join(dir, "control.json");
    try {
      if (!existsSync(file)) {
        // a start that died before writing its control file: only if clearly old and nothing runs in it
        const old = Date.now() - statSync(dir).mtimeMs > 10 * 60_000;
        const running = ["primary", "replica"].some((n) => {
          const pid = postmasterPid(join(dir, n));
          return pid !== undefined && isAlive(pid);
        });
        if (!old || running) continue;
      } else {
        const ctl = JSON.parse(readFileSync(file, "utf8")) as ControlData;
        if (isAlive(ctl.ownerPid)) continue;
        await Promise.all([stopNode(ctl, ctl.primary), stopNode(ctl, ctl.replica)]);
      }
      await rm(dir, { recursive: true, force: true });
      removed++;
    } catch {
      // best effort
    }
  }
  return removed;
}

export async function startPgPair(opts: StartPgPairOptions = {}): Promise<PgPair> {
  const started = Date.now();
  let lastStep = started;
  const step = (name: string) => {
    if (!process.env.PG_PAIR_DEBUG) return;
    const now = Date.now();
    process.stderr.write(`[pg-pair] ${name}: ${now - lastStep} ms (total ${now - started} ms)\n`);
    lastStep = now;
  };
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const pgBin = opts.pgBin ?? findPgBin();
  const runAsPostgres = process.getuid?.() === 0;

  await sweepStalePgPairs();
  const baseDir = await mkdtemp(join(SHM_ROOT, DIR_PREFIX));
  await chmod(baseDir, 0o700);
  let ownerIds: { uid: number; gid: number } | undefined;
  if (runAsPostgres) {
    ownerIds = {
      uid: Number((await mustRun("id", ["id", "-u", "postgres"], "/")).stdout.trim()),
      gid: Number((await mustRun("id", ["id", "-g", "postgres"], "/")).stdout.trim()),
    };
    await chown(baseDir, ownerIds.uid, ownerIds.gid);
  }

  const controlFile = join(baseDir, "control.json");
  const [primaryPort, replicaPort] = await Promise.all([freePort(), freePort()]);
  const ctl: ControlData = {
    version: 1,
    ownerPid: process.pid,
    baseDir,
    pgBin,
    pgCtl: join(pgBin, "pg_ctl"),
    psql: existsSync(join(pgBin, "psql")) ? join(pgBin, "psql") : "psql",
    runAsPostgres,
    slot: SLOT,
    primary: { dataDir: join(baseDir, "primary"), port: primaryPort, logFile: join(baseDir, "primary.log") },
    replica: { dataDir: join(baseDir, "replica"), port: replicaPort, logFile: join(baseDir, "replica.log") },
  };
  if (ctl.replica.port === ctl.primary.port) ctl.replica.port = await freePort();
  const saveControl = () => writeFile(controlFile, `${JSON.stringify(ctl, null, 2)}\n`);
  await saveControl();

  try {
    const template = await ensureTemplate(ctl, ownerIds);
    step("template");
    await mustRun("copying the template cluster", ["cp", "-a", template, ctl.primary.dataDir], baseDir);
    step("copied");
    await appendConf(ctl.primary.dataDir, "postgresql.conf", {
      listen_addresses: "127.0.0.1",
      unix_socket_directories: baseDir,
      max_connections: opts.maxConnections ?? 150,
      shared_buffers: opts.sharedBuffers ?? "32MB",
      // POSIX DSM would create /dev/shm/PostgreSQL.* files next to the machine's own server's; keep ours inside
      dynamic_shared_memory_type: "mmap",
      wal_level: "replica",
      max_wal_senders: 5,
      max_replication_slots: 5,
      hot_standby: "on",
      hot_standby_feedback: "on",
      wal_receiver_status_interval: "1s",
      wal_retrieve_retry_interval: "200ms",
      fsync: "off",
      synchronous_commit: opts.durableCommits ? "on" : "off",
      full_page_writes: "off",
      timezone: "UTC",
      log_timezone: "UTC",
    });
    await startNodeOnFreePort(ctl, ctl.primary, "primary");
    await saveControl();
    step("primary started");

    await mustRun(
      "pg_basebackup",
      asPostgres(ctl, [
        join(pgBin, "pg_basebackup"),
        ...["-D", ctl.replica.dataDir, "-h", "127.0.0.1", "-p", String(ctl.primary.port), "-U", "postgres"],
        ...["-R", "-X", "stream", "-C", "-S", SLOT, "-c", "fast", "--no-sync"],
      ]),
      baseDir,
    );
    step("pg_basebackup");
    await startNodeOnFreePort(ctl, ctl.replica, "replica");
    await saveControl();
    step("replica started");

    const pair = makeControl(ctl);
    await waitFor(
      "the standby to stream from the primary",
      Math.max(1_000, timeoutMs - (Date.now() - started)),
      async () => {
        const n = await psql(
          ctl,
          ctl.primary.port,
          "select count(*) from pg_stat_replication where state = 'streaming'",
        );
        return Number(n) >= 1 ? true : undefined;
      },
    );
    step("streaming");

    let stopped = false;
    return {
      ...pair,
      controlFile,
      baseDir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await Promise.all([stopNode(ctl, ctl.primary), stopNode(ctl, ctl.replica)]);
        await rm(baseDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all([stopNode(ctl, ctl.primary), stopNode(ctl, ctl.replica)]);
    await rm(baseDir, { recursive: true, force: true });
    throw err;
  }
}
