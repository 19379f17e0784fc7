import type { BucketRange } from "../../db/schema-models.ts";

/** Users are spread over this many buckets; a variant owns a set of bucket ranges ([start, end)). */
export const BUCKETS = 10_000;

/**
 * The user's bucket in an experiment: SHA-256(experiment id + user id), its first 8 bytes as an unsigned
 * integer, modulo 10,000 (the bias of 2^64 mod 10,000 is below 1e-15). Deterministic: the same user lands in
 * the same bucket on every request and instance; independent between experiments.
 */
export function bucketOf(experimentId: string, userId: string): number {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(experimentId + userId);
  const digest = hasher.digest();
  const view = new DataView(digest.buffer, digest.byteOffset, 8);
  return Number(view.getBigUint64(0) % BigInt(BUCKETS));
}

export type VariantBuckets = { key: string; buckets: BucketRange[] };

/** The variant owning `bucket`, undefined when no variant does (weights summing to less cannot happen). */
export function variantOfBucket<V extends VariantBuckets>(
  variants: readonly V[],
  bucket: number,
): V | undefined {
  return variants.find((v) => v.buckets.some(([start, end]) => bucket >= start && bucket < end));
}

const size = (ranges: readonly BucketRange[]) => ranges.reduce((n, [s, e]) => n + (e - s), 0);

/** Sorted, with touching ranges joined. */
function normalise(ranges: readonly BucketRange[]): BucketRange[] {
  const sorted = ranges.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const out: BucketRange[] = [];
  for (const [s, e] of sorted) {
    const last = out.at(-1);
    if (last && last[1] === s) last[1] = e;
    else out.push([s, e]);
  }
  return out;
}

/** Fresh layout: consecutive ranges in variant order, sized by weight (weights sum to BUCKETS). */
export function initialBuckets(weights: readonly { key: string; weight: number }[]): VariantBuckets[] {
  let next = 0;
  return weights.map(({ key, weight }) => {
    const range: BucketRange = [next, next + weight];
    next += weight;
    return { key, buckets: weight > 0 ? [range] : [] };
  });
}

/**
 * New weights with the fewest users moved: a variant that shrinks gives up buckets from the end of its ranges,
 * a variant that grows takes only those freed buckets. Every user whose variant did not change size, and every
 * user of a shrinking variant outside the given-up buckets, stays where they were; exactly
 * sum(max(0, old - new)) buckets move.
 */
export function rebalance(
  current: readonly VariantBuckets[],
  weights: ReadonlyMap<string, number>,
): VariantBuckets[] {
  const freed: BucketRange[] = [];
  const kept = current.map((v) => {
    const target = weights.get(v.key) ?? size(v.buckets);
    let excess = size(v.buckets) - target;
    const ranges = normalise(v.buckets);
    while (excess > 0) {
      const last = ranges.pop()!;
      const take = Math.min(excess, last[1] - last[0]);
      freed.push([last[1] - take, last[1]]);
      if (last[1] - take > last[0]) ranges.push([last[0], last[1] - take]);
      excess -= take;
    }
    return { key: v.key, buckets: ranges, target };
  });
  const pool = normalise(freed);
  return kept.map((v) => {
    let missing = v.target - size(v.buckets);
    const ranges = [...v.buckets];
    while (missing > 0) {
      const first = pool[0]!;
      const take = Math.min(missing, first[1] - first[0]);
      ranges.push([first[0], first[0] + take]);
      if (first[0] + take < first[1]) first[0] += take;
      else pool.shift();
      missing -= take;
    }
    return { key: v.key, buckets: normalise(ranges) };
  });
}
