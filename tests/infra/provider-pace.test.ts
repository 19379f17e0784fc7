import { describe, expect, test } from "bun:test";
import { createProviderPace } from "../../src/infra/providers/provider-pace.ts";

/** A pace on a clock the test moves: every figure below is exact. */
function paceAt(ceilingMs = 3_000) {
  let now = 0;
  const thresholds: number[] = [];
  const pace = createProviderPace({ ceilingMs, now: () => now, onWait: (_p, ms) => thresholds.push(ms) });
  const answerAfter = (ms: number) => {
    const settled = pace.callStarted("plantnet");
    now += ms;
    settled("answered");
  };
  const advance = (ms: number) => {
    now += ms;
  };
  return { pace, answerAfter, thresholds, advance };
}

describe("provider pace", () => {
  test("with fewer than ten answers the stall threshold is the configured wait", () => {
    const { pace, answerAfter } = paceAt();
    for (let i = 0; i < 9; i += 1) answerAfter(100);
    expect(pace.thresholdMs("plantnet")).toBe(3_000);
    expect(pace.thresholdMs("plant-id")).toBe(3_000);
  });

  test("a fast provider's threshold is the floor; a slower one's is three times its p95, at most the wait", () => {
    const fast = paceAt();
    for (let i = 0; i < 10; i += 1) fast.answerAfter(100);
    expect(fast.pace.thresholdMs("plantnet")).toBe(1_000);
    expect(fast.thresholds.at(-1)).toBe(1_000);

    const slower = paceAt();
    for (let i = 0; i < 20; i += 1) slower.answerAfter(i === 19 ? 900 : 500);
    // p95 of nineteen 500s and one 900 is 500: 3 × 500.
    expect(slower.pace.thresholdMs("plantnet")).toBe(1_500);
    for (let i = 0; i < 64; i += 1) slower.answerAfter(2_000);
    expect(slower.pace.thresholdMs("plantnet")).toBe(3_000);
    expect(slower.pace.thresholdMs("plantnet", 2_500)).toBe(2_500);
  });

  test("a provider is stalled once a call has waited on it longer than its threshold with no answer", () => {
    const { pace, answerAfter, advance } = paceAt();
    for (let i = 0; i < 10; i += 1) answerAfter(100);
    expect(pace.isStalled("plantnet")).toBe(false);
    const hung = pace.callStarted("plantnet");
    advance(1_000);
    expect(pace.isStalled("plantnet")).toBe(false);
    advance(1);
    expect(pace.isStalled("plantnet")).toBe(true);
    // The call's deadline passes without an answer: still silent.
    hung("silent");
    advance(5_000);
    expect(pace.isStalled("plantnet")).toBe(true);
    expect(pace.isStalled("plant-id")).toBe(false);
    // Any answer ends the silence.
    answerAfter(100);
    expect(pace.isStalled("plantnet")).toBe(false);
  });

  test("a call the breaker refused before sending is not silence", () => {
    const { pace, answerAfter, advance } = paceAt();
    for (let i = 0; i < 10; i += 1) answerAfter(100);
    pace.callStarted("plantnet")("not_sent");
    advance(10_000);
    expect(pace.isStalled("plantnet")).toBe(false);
  });
});
