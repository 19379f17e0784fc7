/**
 * The knee search's stepping (bench/fleet-knee.ts) against fleets with a known knee: it must bracket the knee
 * to within 10 % in few enough steps for its 5 min budget, and stop at the ends of its range.
 */
import { describe, expect, test } from "bun:test";
import { nextRate } from "../../bench/fleet-knee.ts";

/** The rates the search tries against a fleet that meets the targets up to `knee` req/s. */
function search(knee: number): { tried: number[]; found: number | undefined } {
  const tried: number[] = [];
  let pass: number | undefined;
  let fail: number | undefined;
  for (let rate = nextRate(undefined, undefined); rate !== undefined; rate = nextRate(pass, fail)) {
    expect(tried).not.toContain(rate);
    tried.push(rate);
    if (rate <= knee) pass = Math.max(pass ?? 0, rate);
    else fail = Math.min(fail ?? Number.POSITIVE_INFINITY, rate);
  }
  return { tried, found: pass };
}

describe("the knee search", () => {
  test("doubles from 50/s, then bisects until the knee is bracketed to within 10 %", () => {
    const { tried, found } = search(430);
    expect(tried.slice(0, 5)).toEqual([50, 100, 200, 400, 800]);
    expect(found).toBeLessThanOrEqual(430);
    expect(found).toBeGreaterThan(430 * 0.9);
    // 12 s steps with ~11 s of overhead each: about 11 fit in the budget after the fleet's start.
    expect(tried.length).toBeLessThanOrEqual(11);
  });

  test("finds knees across the range in at most 11 steps", () => {
    for (const knee of [12, 37, 75, 160, 333, 999, 1_500, 2_900]) {
      const { tried, found } = search(knee);
      expect(tried.length).toBeLessThanOrEqual(11);
      expect(found).toBeDefined();
      expect(found as number).toBeGreaterThanOrEqual(Math.min(knee * 0.9, knee - 10));
    }
  });

  test("stops at the ends of its range: everything met, or nothing down to 10/s", () => {
    expect(search(1_000_000).tried.at(-1)).toBe(3_200);
    expect(search(1_000_000).found).toBe(3_200);
    const none = search(5);
    expect(none.found).toBeUndefined();
    expect(Math.min(...none.tried)).toBeGreaterThanOrEqual(10);
  });
});
