/**
 * `npm start`: the whole stack on one machine. Creates the database when missing, then runs the API
 * (which applies migrations and seed data), then one worker process per queue lane, and stops everything
 * together on Ctrl-C. Without provider keys it also runs the provider simulator (tests/simulators/main.ts) and
 * points the API and the workers at it.
 */
import { ensureDatabase } from "./ensure-database.ts";
import { START_WORKER_LANES, START_WORKER_PORT_BASE } from "./start-ports.ts";

const env: Record<string, string> = { ...(process.env as Record<string, string>) };
env.DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/plant_community";
env.PORT ??= "3000";

const useSimulator = !env.PLANT_ID_API_KEY && !env.PLANTNET_API_KEY && env.NODE_ENV !== "production";
if (useSimulator) {
  console.log(
    "No provider keys configured (PLANT_ID_API_KEY, PLANTNET_API_KEY): identifications will be answered by the\n" +
      "local PROVIDER SIMULATOR, not by the real Plant.id and PlantNet. Set both keys to use the real providers.",
  );
}

if (await ensureDatabase(env.DATABASE_URL))
  console.log(`created database ${new URL(env.DATABASE_URL).pathname.slice(1)}`);

type Child = { name: string; proc: ReturnType<typeof Bun.spawn> };
const children: Child[] = [];

function start(name: string, args: string[], extraEnv: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, ...args], {
    env: { ...env, ...extraEnv },
    stdout: "inherit",
    stderr: "inherit",
  });
  children.push({ name, proc });
  proc.exited.then((code) => {
    if (!stopping) {
      console.error(`${name} exited with code ${code}; stopping the stack`);
      void stop(code || 1);
    }
  });
  return proc;
}

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.proc.kill("SIGTERM");
  await Promise.race([Promise.all(children.map((c) => c.proc.exited)), Bun.sleep(15_000)]);
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

/** Starts the simulator on a free port; resolves with its URL from the line it prints when listening. */
async function startSimulator(): Promise<string> {
  const proc = Bun.spawn([process.execPath, "tests/simulators/main.ts"], {
    env: { ...env, PORT: env.SIMULATOR_PORT ?? "0", HOST: "127.0.0.1" },
    stdout: "pipe",
    stderr: "inherit",
  });
  children.push({ name: "provider simulator", proc });
  proc.exited.then((code) => {
    if (!stopping) {
      console.error(`provider simulator exited with code ${code}; stopping the stack`);
      void stop(code || 1);
    }
  });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the provider simulator exited before listening");
    buffered += decoder.decode(value, { stream: true });
    const url = /listening on (http:\/\/\S+)/.exec(buffered)?.[1];
    if (url) {
      process.stdout.write(buffered);
      // Keep forwarding whatever else the simulator prints.
      void (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) process.stdout.write(r.value);
      })().catch(() => {});
      return url;
    }
  }
}

const apiEnv: Record<string, string> = {};
if (useSimulator) {
  const url = await startSimulator();
  console.log(`provider simulator: ${url} (Plant.id at ${url}/plant-id/v3, PlantNet at ${url}/plantnet/v2)`);
  Object.assign(apiEnv, {
    PLANT_ID_API_KEY: "sim-plant-id-key",
    PLANT_ID_BASE_URL: `${url}/plant-id/v3`,
    PLANTNET_API_KEY: "sim-plantnet-key",
    PLANTNET_BASE_URL: `${url}/plantnet/v2`,
  });
}

console.log(`Plant Community API starting: docs at http://localhost:${env.PORT}/v1/docs`);
start("api", ["src/main.ts"], apiEnv);

/** The API migrates the database on start; workers begin once it answers, so no job meets a missing table. */
async function waitForApi(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!stopping) {
    if ((await fetch(url).catch(() => undefined))?.ok) return;
    if (Date.now() > deadline) throw new Error(`the API did not answer ${url} within ${timeoutMs / 1000} s`);
    await Bun.sleep(200);
  }
}

// One worker process per lane, as the Fly process groups run them (health and metrics on 9101-9104).
await waitForApi(`http://127.0.0.1:${env.PORT}/health`);
const workerPortBase = Number(env.WORKER_PORT_BASE ?? START_WORKER_PORT_BASE);
for (const [i, lane] of START_WORKER_LANES.entries()) {
  start(`worker ${lane}`, ["workers/main.ts"], {
    ...apiEnv,
    WORKER_QUEUES: lane,
    WORKER_PORT: String(workerPortBase + i),
    // Within the 15 s this script gives every process to stop.
    WORKER_DRAIN_TIMEOUT_MS: env.WORKER_DRAIN_TIMEOUT_MS ?? "10000",
  });
}
console.log(
  `workers: fast, default, slow, priority (health at http://localhost:${workerPortBase}-${workerPortBase + 3}/healthz)`,
);
