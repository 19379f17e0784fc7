import { describe, expect, test } from "bun:test";
import {
  BUCKETS,
  bucketOf,
  initialBuckets,
  rebalance,
  type VariantBuckets,
  variantOfBucket,
} from "../../src/modules/models/assignment.ts";
import { erfc, twoProportionTest, wilsonInterval } from "../../src/modules/models/stats.ts";

const USERS = 100_000;
const experimentId = "0190f5a2-7b1c-7d3e-8f00-1234567890ab";
/** Deterministic, UUID-shaped user ids (v4 layout) so the test is the same on every run. */
const userIds = Array.from({ length: USERS }, (_, i) => {
  const hex = new Bun.CryptoHasher("sha256").update(`user-${i}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
});

/** Each user's bucket in the experiment, hashed once for the whole file (100,000 SHA-256s take a while). */
let bucketsOfUsers: number[] | undefined;
function assign(layout: VariantBuckets[]): string[] {
  bucketsOfUsers ??= userIds.map((u) => bucketOf(experimentId, u));
  // One lookup per bucket, then per user: the same mapping variantOfBucket gives, 10x fewer range scans.
  const byBucket = Array.from({ length: BUCKETS }, (_, b) => variantOfBucket(layout, b)!.key);
  return bucketsOfUsers.map((b) => byBucket[b]!);
}

function shares(assigned: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of assigned) counts[key] = (counts[key] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n / assigned.length]));
}

const roadmap = [
  { key: "control", weight: 8000 },
  { key: "a", weight: 1000 },
  { key: "b", weight: 1000 },
];

describe("experiment assignment", () => {
  test("over 100,000 users each variant's share is within 1 % of its weight (80 / 10 / 10)", () => {
    const s = shares(assign(initialBuckets(roadmap)));
    expect(Math.abs(s.control! - 0.8)).toBeLessThan(0.01);
    expect(Math.abs(s.a! - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(s.b! - 0.1)).toBeLessThan(0.01);
  }, 30_000);

  test("is sticky: the same user always gets the same bucket, and another experiment shuffles users anew", () => {
    const sample = userIds.slice(0, 1_000);
    const first = sample.map((u) => bucketOf(experimentId, u));
    expect(sample.map((u) => bucketOf(experimentId, u))).toEqual(first);
    expect(first.every((b) => Number.isInteger(b) && b >= 0 && b < BUCKETS)).toBe(true);
    const other = sample.map((u) => bucketOf("0190f5a2-7b1c-7d3e-8f00-ffffffffffff", u));
    const same = other.filter((b, i) => b === first[i]).length;
    expect(same).toBeLessThan(10);
  });

  test("changing the weights moves only the users in the moved share (80/10/10 -> 70/20/10)", () => {
    const before = initialBuckets(roadmap);
    const after = rebalance(
      before,
      new Map([
        ["control", 7000],
        ["a", 2000],
        ["b", 1000],
      ]),
    );
    const was = assign(before);
    const now = assign(after);
    const moved = now.map((v, i) => [was[i], v] as const).filter(([w, v]) => w !== v);
    // Only control -> a, about 10 % of users; b's users all stay.
    expect(moved.every(([w, v]) => w === "control" && v === "a")).toBe(true);
    expect(Math.abs(moved.length / USERS - 0.1)).toBeLessThan(0.01);
    const s = shares(now);
    expect(Math.abs(s.control! - 0.7)).toBeLessThan(0.01);
    expect(Math.abs(s.a! - 0.2)).toBeLessThan(0.01);
    expect(after.map((v) => v.buckets.reduce((n, [s0, e]) => n + e - s0, 0))).toEqual([7000, 2000, 1000]);
  });

  test("moving share between the first and the last variant leaves the middle one's users in place", () => {
    const before = initialBuckets(roadmap);
    const after = rebalance(
      before,
      new Map([
        ["control", 6000],
        ["a", 1000],
        ["b", 3000],
      ]),
    );
    const was = assign(before);
    const now = assign(after);
    const moved = now.map((v, i) => [was[i], v] as const).filter(([w, v]) => w !== v);
    expect(moved.every(([w, v]) => w === "control" && v === "b")).toBe(true);
    expect(now.filter((_v, i) => was[i] === "a").every((v) => v === "a")).toBe(true);
    // Exactly the 2,000 given-up buckets changed hands.
    const changed = Array.from({ length: BUCKETS }, (_, b) => b).filter(
      (b) => variantOfBucket(before, b)!.key !== variantOfBucket(after, b)!.key,
    );
    expect(changed).toHaveLength(2000);
  });

  test("every bucket belongs to exactly one variant after any change", () => {
    const layout = rebalance(
      rebalance(
        initialBuckets(roadmap),
        new Map([
          ["control", 5000],
          ["a", 2500],
          ["b", 2500],
        ]),
      ),
      new Map([
        ["control", 9000],
        ["a", 0],
        ["b", 1000],
      ]),
    );
    for (let b = 0; b < BUCKETS; b++) {
      expect(layout.filter((v) => v.buckets.some(([s, e]) => b >= s && b < e))).toHaveLength(1);
    }
    expect(layout.find((v) => v.key === "a")!.buckets).toEqual([]);
  });
});

describe("report statistics", () => {
  test("Wilson 95 % interval of 8 out of 10 is [0.4902, 0.9433]", () => {
    const i = wilsonInterval(8, 10)!;
    expect(i.low).toBeCloseTo(0.49016, 4);
    expect(i.high).toBeCloseTo(0.94332, 4);
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(wilsonInterval(0, 5)!.low).toBe(0);
  });

  test("two-proportion z-test of 45/100 against 30/100: z = 2.19, p = 0.0285", () => {
    const t = twoProportionTest(45, 100, 30, 100)!;
    expect(t.z).toBeCloseTo(2.19089, 4);
    expect(t.pValue).toBeCloseTo(0.02846, 4);
    expect(twoProportionTest(5, 5, 3, 3)).toBeNull();
    expect(twoProportionTest(1, 0, 3, 3)).toBeNull();
  });

  test("erfc matches known values", () => {
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(erfc(1)).toBeCloseTo(0.157299, 6);
    expect(erfc(-1)).toBeCloseTo(1.842701, 6);
  });
});
