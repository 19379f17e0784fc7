import { z } from "zod";
import { bool, int, optionalText, rate } from "./env-types.ts";

/** The GraphQL endpoint (issue #14): limits, persisted queries, GraphiQL; merged into the one schema in index.ts. */
export const GraphqlEnvShape = {
  // GraphiQL on GET /v1/graphql for browsers; off by default in production (its assets come from a CDN).
  GRAPHQL_GRAPHIQL: bool.optional(),
  // Deepest selection nesting accepted (the home-screen query needs 6).
  GRAPHQL_MAX_DEPTH: int(2).max(50).default(8),
  // Cost budget of one operation: 1 per object the answer may hold, connections times `first` (cost.ts).
  GRAPHQL_MAX_COST: int(10).default(5_000),
  GRAPHQL_MAX_ALIASES: int(1).default(15),
  // Lexer tokens of one document: refuses huge documents before they are parsed.
  GRAPHQL_MAX_TOKENS: int(100).default(2_000),
  // Operations in one batched (JSON array) request.
  GRAPHQL_MAX_BATCH: int(1).max(50).default(5),
  // Cost points one caller may spend per window, shared by every instance (each operation charges its cost).
  GRAPHQL_RATE_LIMIT: rate.prefault("50000/1m"),
  // apq: automatic persisted queries (any query may register its SHA-256); allowlist: only the documents in
  // GRAPHQL_ALLOWLIST_FILE run (by hash or by text); off: plain queries only.
  GRAPHQL_PERSISTED_QUERIES: z.enum(["apq", "allowlist", "off"]).default("apq"),
  GRAPHQL_ALLOWLIST_FILE: optionalText,
  GRAPHQL_APQ_TTL_SECONDS: int(60).default(7 * 86_400),
  // Cache-Control max-age of public GET answers (no credentials, no errors): CDN-cacheable persisted queries.
  GRAPHQL_PUBLIC_MAX_AGE_SECONDS: int(0).default(60),
};

type GraphqlEnv = {
  NODE_ENV: "development" | "test" | "production";
  GRAPHQL_GRAPHIQL?: boolean | undefined;
  GRAPHQL_MAX_DEPTH: number;
  GRAPHQL_MAX_COST: number;
  GRAPHQL_MAX_ALIASES: number;
  GRAPHQL_MAX_TOKENS: number;
  GRAPHQL_MAX_BATCH: number;
  GRAPHQL_RATE_LIMIT: { limit: number; windowSeconds: number };
  GRAPHQL_PERSISTED_QUERIES: "apq" | "allowlist" | "off";
  GRAPHQL_ALLOWLIST_FILE?: string | undefined;
  GRAPHQL_APQ_TTL_SECONDS: number;
  GRAPHQL_PUBLIC_MAX_AGE_SECONDS: number;
};

export type GraphqlConfig = Readonly<{
  graphql: Readonly<{
    graphiql: boolean;
    maxDepth: number;
    maxCost: number;
    maxAliases: number;
    maxTokens: number;
    maxBatch: number;
    rateLimit: Readonly<{ limit: number; windowSeconds: number }>;
    persistedQueries: "apq" | "allowlist" | "off";
    allowlistFile: string | undefined;
    apqTtlSeconds: number;
    publicMaxAgeSeconds: number;
  }>;
}>;

export function graphqlConfig(e: GraphqlEnv): GraphqlConfig {
  return {
    graphql: {
      graphiql: e.GRAPHQL_GRAPHIQL ?? e.NODE_ENV !== "production",
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxCost: e.GRAPHQL_MAX_COST,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxBatch: e.GRAPHQL_MAX_BATCH,
      rateLimit: e.GRAPHQL_RATE_LIMIT,
      persistedQueries: e.GRAPHQL_PERSISTED_QUERIES,
      allowlistFile: e.GRAPHQL_ALLOWLIST_FILE,
      apqTtlSeconds: e.GRAPHQL_APQ_TTL_SECONDS,
      publicMaxAgeSeconds: e.GRAPHQL_PUBLIC_MAX_AGE_SECONDS,
    },
  };
}

export function checkGraphqlEnv(
  env: { GRAPHQL_PERSISTED_QUERIES: string; GRAPHQL_ALLOWLIST_FILE?: string | undefined },
  ctx: z.RefinementCtx,
) {
  if (env.GRAPHQL_PERSISTED_QUERIES === "allowlist" && !env.GRAPHQL_ALLOWLIST_FILE) {
    ctx.addIssue({
      code: "custom",
      path: ["GRAPHQL_ALLOWLIST_FILE"],
      message: "required when GRAPHQL_PERSISTED_QUERIES=allowlist",
    });
  }
}
