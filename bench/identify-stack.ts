/** The API as a real process (core 0) wired to the provider simulator (core 1), for the identification benches. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDatabase } from "../scripts/ensure-database.ts";
import { DEFAULT_PLANT_ID_KEY, DEFAULT_PLANTNET_KEY } from "../tests/simulators/provider-simulator.ts";
import { apiEntry, startPinned } from "./lib.ts";

export const BENCH_DB_URL =
  process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/plant_community_bench";

export type IdentifyStack = {
  apiUrl: string;
  simUrl: string;
  simControl(command: object): Promise<Response>;
  simCalls(): Promise<Record<string, number>>;
  /** A fresh user's access token. */
  register(): Promise<string>;
  stop(): Promise<void>;
};

export async function startIdentifyStack(apiEnv: Record<string, string> = {}): Promise<IdentifyStack> {
  await ensureDatabase(BENCH_DB_URL);
  const mediaDir = await mkdtemp(join(tmpdir(), "plantc-bench-media-"));
  const sim = await startPinned("tests/simulators/main.ts", { core: 1, readyPath: "/__sim/calls" });
  const simControl = (command: object) =>
    fetch(`${sim.url}/__sim/control`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(command),
    });
  try {
    const api = await startPinned(await apiEntry(), {
      core: 0,
      readyPath: "/health",
      env: {
        NODE_ENV: "development",
        DATABASE_URL: BENCH_DB_URL,
        LOG_LEVEL: "warn",
        METRICS_PORT: "0",
        REDIS_KEY_PREFIX: `bench:${crypto.randomUUID()}:`,
        MEDIA_DIR: mediaDir,
        PLANT_ID_API_KEY: DEFAULT_PLANT_ID_KEY,
        PLANT_ID_BASE_URL: `${sim.url}/plant-id/v3`,
        PLANTNET_API_KEY: DEFAULT_PLANTNET_KEY,
        PLANTNET_BASE_URL: `${sim.url}/plantnet/v2`,
        // Budgets and limits would refuse a benchmark's traffic; they are measured by their own tests.
        PLANT_ID_DAILY_QUOTA: "0",
        PLANT_ID_HOURLY_QUOTA: "0",
        PLANTNET_DAILY_QUOTA: "0",
        PLANTNET_HOURLY_QUOTA: "0",
        RATE_LIMIT_IDENTIFY: "1000000/1m",
        RATE_LIMIT_REGISTER: "1000/1m",
        // The image and database path is measured here; the request-path wait under a hanging provider is
        // measured by `bun run drill provider-hanging` (as long as the provider deadline: no 503 on a loaded box).
        IDENTIFY_SYNC_WAIT_MS: "6000",
        // Bench users do not confirm their address (measured by the verification tests, not here).
        UNVERIFIED_IDENTIFICATION_ALLOWANCE: "1000000",
        // Load users identify far more than a person would: no per-user provider budget here.
        PROVIDER_BUDGET_USER_DAILY: "0",
        PROVIDER_BUDGET_PREMIUM_DAILY: "0",
        ...apiEnv,
      },
    });
    return {
      apiUrl: api.url,
      simUrl: sim.url,
      simControl,
      simCalls: async () => (await (await fetch(`${sim.url}/__sim/calls`)).json()) as Record<string, number>,
      async register() {
        const account = {
          email: `bench-${crypto.randomUUID()}@example.test`,
          password: `pw-${crypto.randomUUID()}`,
        };
        const post = (path: string, body: object) =>
          fetch(`${api.url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
        const res = await post("/v1/auth/register", { ...account, displayName: "Bench" });
        if (res.status !== 202) throw new Error(`register answered ${res.status}: ${await res.text()}`);
        const login = await post("/v1/auth/login", account);
        if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
        return ((await login.json()) as { accessToken: string }).accessToken;
      },
      async stop() {
        await api.stop();
        await sim.stop();
        await rm(mediaDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await sim.stop();
    await rm(mediaDir, { recursive: true, force: true });
    throw err;
  }
}
