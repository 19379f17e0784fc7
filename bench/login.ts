/**
 * `bun run bench login`: what a sign-in costs with our argon2id parameters.
 * 1. argon2id verify alone, for the chosen parameters and two alternatives (the CPU and memory price).
 * 2. A full POST /v1/auth/login through the app (verify + user lookup + refresh-token insert + JWT), in process,
 *    against the bench database (created and migrated here when needed), sequentially, one IP per call;
 *    the bench user is deleted at the end.
 */

import { ensureDatabase } from "../scripts/ensure-database.ts";
import { createApp } from "../src/app.ts";
import { loadConfig, parseConfig } from "../src/config/index.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { buildDeps } from "../src/deps.ts";
import { createLogger } from "../src/infra/logger.ts";

const ROUNDS = Number(process.env.BENCH_LOGIN_ROUNDS ?? 40);

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function timeVerify(memoryCost: number, timeCost: number) {
  const hash = await Bun.password.hash("correct horse battery staple", {
    algorithm: "argon2id",
    memoryCost,
    timeCost,
  });
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await Bun.password.verify("correct horse battery staple", hash);
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b);
}

export async function runLoginBench() {
  const chosen = loadConfig().auth.argon2;
  const candidates = [
    { label: "chosen (OWASP: 19 MiB, t=2)", m: chosen.memoryCost, t: chosen.timeCost },
    { label: "Bun default (64 MiB, t=2)", m: 65_536, t: 2 },
    { label: "OWASP alternative (46 MiB, t=1)", m: 47_104, t: 1 },
  ];
  console.log(`argon2id verify, ${ROUNDS} rounds each:`);
  for (const c of candidates) {
    const s = await timeVerify(c.m, c.t);
    console.log(`  ${c.label.padEnd(34)} p50 ${fmt(percentile(s, 50))}  p95 ${fmt(percentile(s, 95))}`);
  }

  const databaseUrl =
    process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/plant_community_bench";
  await ensureDatabase(databaseUrl);
  const config = parseConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: "silent",
    TRUST_PROXY_HEADER: "Fly-Client-IP",
    // Every round from its own address and with the right password: sign-in throttling never engages.
    REDIS_KEY_PREFIX: `bench:${crypto.randomUUID()}:`,
  });
  const deps = await buildDeps(config, { logger: createLogger("silent") });
  try {
    await migrateToLatest(deps.db.primary);
    const { app } = createApp(deps);
    const email = `bench-${crypto.randomUUID()}@example.test`;
    const password = "correct horse battery staple";
    const post = (path: string, body: unknown, i: number) =>
      app.request(path, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "fly-client-ip": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        },
        body: JSON.stringify(body),
      });
    const reg = await post("/v1/auth/register", { email, password, displayName: "Bench" }, 0);
    if (reg.status !== 202) throw new Error(`register answered ${reg.status}`);
    const first = await post("/v1/auth/login", { email, password }, 0);
    const { accessToken } = (await first.json()) as { accessToken: string };
    const samples: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const started = performance.now();
      const res = await post("/v1/auth/login", { email, password }, i);
      samples.push(performance.now() - started);
      if (res.status !== 200) throw new Error(`login answered ${res.status}`);
    }
    samples.sort((a, b) => a - b);
    console.log(
      `POST /v1/auth/login end to end (m=${chosen.memoryCost} KiB, t=${chosen.timeCost}), ${ROUNDS} sequential:`,
    );
    console.log(`  p50 ${fmt(percentile(samples, 50))}  p95 ${fmt(percentile(samples, 95))}`);
    await app.request("/v1/me", { method: "DELETE", headers: { authorization: `Bearer ${accessToken}` } });
  } finally {
    await deps.close();
  }
}

if (import.meta.main) await runLoginBench();
