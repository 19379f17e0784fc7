/**
 * `bun run bench password`: what the password-strength check costs per registration or reset, worst case
 * (long random input) and typical, beside the target. The estimator runs in the request, so its worst case is
 * what a hostile client can make one request cost.
 */
import { passwordProblems } from "../src/modules/auth/password-strength.ts";

/** About the price of the argon2 hash the same request pays (see `bun run bench login`). */
const TARGET_P50_MS = 50;
const ROUNDS = 40;

function random(length: number): string {
  return Array.from({ length }, () => String.fromCharCode(33 + Math.floor(Math.random() * 94))).join("");
}

export async function runPasswordBench() {
  const started = performance.now();
  passwordProblems("warm-up-passphrase");
  console.log(
    `estimator start-up (dictionaries ranked once per process): ${(performance.now() - started).toFixed(0)} ms`,
  );
  const cases: [string, () => string][] = [
    ["typical passphrase (30 chars)", () => `violet kettle ${random(6)} stairs`],
    ["common password (12 chars)", () => "password1234"],
    ["random 64 chars", () => random(64)],
    ["random 128 chars (the maximum)", () => random(128)],
    ["repeated word (128 chars)", () => "password".repeat(16)],
  ];
  for (const [name, make] of cases) {
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const password = make();
      const t = performance.now();
      passwordProblems(password, ["someone@example.com", "Some One"]);
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    const p50 = samples[Math.floor(ROUNDS / 2)]!;
    const max = samples[ROUNDS - 1]!;
    const verdict = p50 <= TARGET_P50_MS ? "ok" : "OVER TARGET";
    console.log(
      `${name.padEnd(32)} p50 ${p50.toFixed(1).padStart(6)} ms  max ${max.toFixed(1).padStart(6)} ms  (target p50 <= ${TARGET_P50_MS} ms: ${verdict})`,
    );
  }
}
