import { z } from "zod";

/** The hot read path (issue #17) and catalogue cache tags (issue #19); merged into the one schema in index.ts. */
export const ReadsEnvShape = {
  // 0 turns the species cache off (every read goes to the database).
  SPECIES_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
  // Species list and search pages: short, because a page mixes many species; any species write drops them all.
  SPECIES_LIST_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(30),
  // Local pre-check of the shared rate limiter: a caller whose last shared count left more than half its limit
  // may spend up to this share of the limit on this instance before the next shared count (0 turns it off).
  RATE_LIMIT_LOCAL_SHARE: z.coerce.number().min(0).max(0.1).default(0.02),
  // Request log lines are buffered up to this many bytes (flushed at least every LOG_FLUSH_INTERVAL_MS and on
  // exit); error and slow-request lines are written at once. 0 writes every line as it comes.
  LOG_BUFFER_BYTES: z.coerce.number().int().min(0).max(16_000).default(8_192),
  LOG_FLUSH_INTERVAL_MS: z.coerce.number().int().min(10).max(10_000).default(250),
};

type ReadsEnv = {
  SPECIES_CACHE_TTL_SECONDS: number;
  SPECIES_LIST_CACHE_TTL_SECONDS: number;
  RATE_LIMIT_LOCAL_SHARE: number;
  LOG_BUFFER_BYTES: number;
  LOG_FLUSH_INTERVAL_MS: number;
};

export type ReadsConfig = Readonly<{
  cache: Readonly<{ speciesTtlSeconds: number }>;
  reads: Readonly<{
    speciesListTtlSeconds: number;
    rateLimitLocalShare: number;
    logBufferBytes: number;
    logFlushIntervalMs: number;
  }>;
}>;

export function readsConfig(e: ReadsEnv): ReadsConfig {
  return {
    cache: { speciesTtlSeconds: e.SPECIES_CACHE_TTL_SECONDS },
    reads: {
      speciesListTtlSeconds: e.SPECIES_LIST_CACHE_TTL_SECONDS,
      rateLimitLocalShare: e.RATE_LIMIT_LOCAL_SHARE,
      logBufferBytes: e.LOG_BUFFER_BYTES,
      logFlushIntervalMs: e.LOG_FLUSH_INTERVAL_MS,
    },
  };
}
