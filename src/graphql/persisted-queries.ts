import { readFileSync } from "node:fs";
import type { Plugin } from "graphql-yoga";
import type { Deps } from "../deps.ts";
import { appGraphQLError } from "./errors.ts";

export function sha256Hex(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

/** The allow-list file: `{ "<sha256 of the document>": "<document>" }`, as the apps' build writes it. */
export function readAllowlist(path: string): Map<string, string> {
  const parsed = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const entries = new Map<string, string>();
  for (const [hash, query] of Object.entries(parsed)) {
    if (typeof query !== "string" || sha256Hex(query) !== hash) {
      throw new Error(`GraphQL allow-list ${path}: the entry ${hash} is not the SHA-256 of its document`);
    }
    entries.set(hash, query);
  }
  return entries;
}

type PersistedQueryExtension = { version?: number; sha256Hash?: string };

/**
 * Automatic persisted queries (Apollo's protocol, which urql and Apollo clients speak): a client sends the
 * document's SHA-256; when we do not know it we answer `PersistedQueryNotFound` and the client sends hash and
 * document once, which we keep in Redis for every instance. A query sent by hash alone fits in a GET URL, so a
 * CDN can cache public answers. In allow-list mode only the documents of the allow-list file run, by hash or by
 * text, and nothing registers new ones.
 */
export function persistedQueries(deps: Pick<Deps, "config" | "redis" | "logger">): Plugin {
  const { persistedQueries: mode, allowlistFile, apqTtlSeconds } = deps.config.graphql;
  if (mode === "off") return {};
  const allowlist = mode === "allowlist" && allowlistFile ? readAllowlist(allowlistFile) : undefined;
  const keyOf = (hash: string) => `${deps.config.redis.keyPrefix}gql:apq:${hash}`;

  return {
    async onParams({ params, setParams }) {
      const ext = params.extensions?.persistedQuery as PersistedQueryExtension | undefined;
      const hash = typeof ext?.sha256Hash === "string" ? ext.sha256Hash.toLowerCase() : undefined;
      if (allowlist) {
        const query = hash ? allowlist.get(hash) : params.query && allowlist.get(sha256Hex(params.query));
        if (!query || (params.query && params.query !== query)) {
          throw appGraphQLError("validation_failed", "PersistedQueryNotAllowed", {
            limit: "allowlist",
            http: { status: 400 },
          });
        }
        setParams({ ...params, query });
        return;
      }
      if (!hash) return;
      if (ext?.version !== 1 || !/^[0-9a-f]{64}$/.test(hash)) {
        throw appGraphQLError("validation_failed", "Unsupported persisted query version or hash.", {
          http: { status: 400 },
        });
      }
      if (params.query) {
        if (sha256Hex(params.query) !== hash) {
          throw appGraphQLError("validation_failed", "provided sha does not match query", {
            http: { status: 400 },
          });
        }
        await deps.redis.cache.set(keyOf(hash), params.query, "EX", apqTtlSeconds).catch((err: unknown) => {
          deps.logger.warn({ err: String(err) }, "persisted query not stored");
        });
        return;
      }
      const stored = await deps.redis.cache.get(keyOf(hash)).catch(() => null);
      // The protocol's own words: clients look for this message and resend with the document.
      if (!stored) throw appGraphQLError("not_found", "PersistedQueryNotFound", { http: { status: 200 } });
      setParams({ ...params, query: stored });
    },
  };
}
