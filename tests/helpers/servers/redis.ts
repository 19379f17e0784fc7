/**
 * Throwaway redis-server processes for fault tests and drills: a lone server, or a master + replica watched
 * by three `redis-server --sentinel`. Loopback only, no persistence, files under a temp directory; every
 * process is stopped by its PID (SIGKILL is the fault we simulate, never `SENTINEL FAILOVER`: LIBRARY-FACTS).
 * The machine's own Redis (6379) is never touched.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./free-port.ts";

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** False after kill() until restart(). */
  readonly running: boolean;
  /** SIGKILL: the server vanishes mid-command, as in a crash. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its socket but answers nothing (a hung host). */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port (empty: no persistence), waiting until it answers PING. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisOptions {
  password?: string;
  /** `replicaof 127.0.0.1 <port>` */
  replicaOf?: number;
  port?: number;
}

const BIN = "redis-server";

async function waitUntil<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

async function ping(port: number, password?: string, command: string[] = ["PING"]): Promise<unknown> {
  const client = new Redis({
    port,
    host: "127.0.0.1",
    password,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
  });
  client.on("error", () => {}); // the rejected call below reports it
  try {
    await client.connect();
    const [name, ...args] = command as [string, ...string[]];
    return await client.call(name, ...args);
  } finally {
    client.disconnect();
  }
}

function serverArgs(port: number, dir: string, opts: RedisOptions): string[] {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--loglevel",
    "warning",
  ];
  if (opts.password) args.push("--requirepass", opts.password, "--masterauth", opts.password);
  if (opts.replicaOf) args.push("--replicaof", "127.0.0.1", String(opts.replicaOf));
  return args;
}

/** One redis-server on a free loopback port. */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisProcess> {
  const dir = await mkdtemp(join(tmpdir(), "plantc-redis-"));
  const port = opts.port ?? (await freePort());
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  const spawn = async () => {
    proc = Bun.spawn([BIN, ...serverArgs(port, dir, opts)], { stdout: "ignore", stderr: "ignore" });
    await waitUntil(async () => ((await ping(port, opts.password)) === "PONG" ? true : undefined), "redis");
  };
  const kill = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  };
  await spawn();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return proc?.pid ?? 0;
    },
    get running() {
      return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
    },
    kill,
    pause: () => proc?.kill("SIGSTOP"),
    resume: () => proc?.kill("SIGCONT"),
    restart: async () => {
      await kill();
      await spawn();
    },
    async stop() {
      if (proc) proc.kill("SIGCONT");
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SentinelGroup {
  readonly name: string;
  /** `host:port,host:port,host:port`, as REDIS_SENTINELS takes it. */
  readonly sentinels: string;
  readonly sentinelPorts: number[];
  readonly password: string | undefined;
  readonly sentinelPassword: string | undefined;
  master: RedisProcess;
  replica: RedisProcess;
  /** The port the Sentinels currently call master. */
  masterPort(): Promise<number>;
  /** kill -9 the master and wait until the Sentinels name the replica as the new master; returns the ms taken. */
  killMasterAndAwaitFailover(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** A master, a replica and three Sentinels (quorum 2, down-after 500 ms) on loopback. */
export async function startSentinelGroup(
  opts: { password?: string; sentinelPassword?: string; name?: string } = {},
): Promise<SentinelGroup> {
  const name = opts.name ?? "plantc";
  const master = await startRedis({ password: opts.password });
  const replica = await startRedis({ password: opts.password, replicaOf: master.port });
  await waitUntil(
    async () =>
      String(await ping(replica.port, opts.password, ["INFO", "replication"])).includes(
        "master_link_status:up",
      )
        ? true
        : undefined,
    "the replica's link to the master",
  );
  const dir = await mkdtemp(join(tmpdir(), "plantc-sentinel-"));
  const sentinelPorts: number[] = [];
  const procs: ReturnType<typeof Bun.spawn>[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const file = join(dir, `sentinel-${i}.conf`);
    const lines = [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
      `sentinel down-after-milliseconds ${name} 500`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
    ];
    if (opts.password) lines.push(`sentinel auth-pass ${name} ${opts.password}`);
    if (opts.sentinelPassword)
      lines.push(`requirepass ${opts.sentinelPassword}`, `sentinel sentinel-pass ${opts.sentinelPassword}`);
    await writeFile(file, `${lines.join("\n")}\n`);
    procs.push(Bun.spawn([BIN, file, "--sentinel"], { stdout: "ignore", stderr: "ignore" }));
    sentinelPorts.push(port);
  }
  const sentinelCall = (port: number, cmd: string[]) => ping(port, opts.sentinelPassword, cmd);
  const masterPort = async () => {
    for (const port of sentinelPorts) {
      try {
        const addr = (await sentinelCall(port, ["SENTINEL", "get-master-addr-by-name", name])) as string[];
        if (addr?.[1]) return Number(addr[1]);
      } catch {
        // ask the next one
      }
    }
    throw new Error("no sentinel answered");
  };
  // Every Sentinel must know the others and the replica before a failover can reach a quorum.
  await waitUntil(
    async () => {
      for (const port of sentinelPorts) {
        const info = (await sentinelCall(port, ["SENTINEL", "master", name])) as string[];
        const field = (k: string) => Number(info[info.indexOf(k) + 1]);
        if (field("num-other-sentinels") < 2 || field("num-slaves") < 1) return undefined;
      }
      return true;
    },
    "the sentinels to discover each other",
    20_000,
  );
  const group: SentinelGroup = {
    name,
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(","),
    sentinelPorts,
    password: opts.password,
    sentinelPassword: opts.sentinelPassword,
    master,
    replica,
    masterPort,
    async killMasterAndAwaitFailover(timeoutMs = 20_000) {
      const old = group.master;
      const started = Date.now();
      await old.kill();
      await waitUntil(
        async () => ((await masterPort()) === group.replica.port ? true : undefined),
        "the sentinels to promote the replica",
        timeoutMs,
      );
      group.master = group.replica;
      group.replica = old;
      return Date.now() - started;
    },
    async stop() {
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      await Promise.all([master.stop(), replica.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return group;
}
