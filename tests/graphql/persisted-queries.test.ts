import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "../../src/graphql/persisted-queries.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { type ServedApp, serveApp } from "../helpers/graphql.ts";

type Answer = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions: Record<string, unknown> }[];
};

const CATALOGUE = "query Catalogue { speciesList(first: 2) { edges { node { id scientificName } } } }";

function getUrl(base: ServedApp, hash: string, query?: string) {
  const url = new URL(`${base.url}/v1/graphql`);
  url.searchParams.set("extensions", JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } }));
  if (query) url.searchParams.set("query", query);
  return url;
}

async function json(res: Response): Promise<Answer> {
  return (await res.json()) as Answer;
}

describe("automatic persisted queries (default mode)", () => {
  let app: TestApp;
  let served: ServedApp;
  beforeAll(async () => {
    app = await createTestApp();
    served = serveApp(app);
  });
  afterAll(async () => {
    served.stop();
    await app.close();
  });

  test("unknown hash: PersistedQueryNotFound; the client registers it once; then GET by hash alone, CDN-cacheable", async () => {
    const query = `${CATALOGUE} # ${crypto.randomUUID()}`;
    const hash = sha256Hex(query);
    const miss = await fetch(getUrl(served, hash), { headers: { accept: "application/json" } });
    const missBody = await json(miss);
    expect(missBody.errors?.[0]?.message).toBe("PersistedQueryNotFound");
    expect(miss.headers.get("cache-control")).toBe("no-store");

    const register = await fetch(`${served.url}/v1/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    });
    expect((await json(register)).errors).toBeUndefined();

    const hit = await fetch(getUrl(served, hash), { headers: { accept: "application/json" } });
    const body = await json(hit);
    expect(body.errors).toBeUndefined();
    expect((body.data!.speciesList as { edges: unknown[] }).edges).toHaveLength(2);
    expect(hit.headers.get("cache-control")).toBe("public, max-age=60");
    expect(hit.headers.get("vary")).toContain("Authorization");
    // Stored in Redis: another instance (same Redis) knows the hash too.
    expect(await app.deps.redis.cache.get(`${app.config.redis.keyPrefix}gql:apq:${hash}`)).toBe(query);
  });

  test("answers that depend on the caller are never public, even by GET", async () => {
    const user = await registerUser(app);
    const query = "query Me { me { displayName } }";
    const url = new URL(`${served.url}/v1/graphql`);
    url.searchParams.set("query", query);
    const res = await fetch(url, { headers: { ...user.headers, accept: "application/json" } });
    expect((await json(res)).data).toEqual({ me: { displayName: "Test User" } });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  test("a hash that is not the document's SHA-256 is refused, and mutations never run by GET", async () => {
    const wrong = await fetch(`${served.url}/v1/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        query: CATALOGUE,
        extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } },
      }),
    });
    expect((await json(wrong)).errors?.[0]?.extensions.code).toBe("validation_failed");
    const url = new URL(`${served.url}/v1/graphql`);
    url.searchParams.set("query", 'mutation { deleteIdentification(id: "x") { deletedId } }');
    const get = await fetch(url, { headers: { accept: "application/json" } });
    expect(get.status).toBe(405);
  });
});

describe("allow-list mode", () => {
  let app: TestApp;
  let served: ServedApp;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "plantc-allowlist-"));
    const file = join(dir, "allowlist.json");
    await writeFile(file, JSON.stringify({ [sha256Hex(CATALOGUE)]: CATALOGUE }));
    app = await createTestApp({ GRAPHQL_PERSISTED_QUERIES: "allowlist", GRAPHQL_ALLOWLIST_FILE: file });
    served = serveApp(app);
  });
  afterAll(async () => {
    served.stop();
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("only listed documents run, by hash or by text; anything else is refused", async () => {
    const byHash = await json(
      await fetch(getUrl(served, sha256Hex(CATALOGUE)), { headers: { accept: "application/json" } }),
    );
    expect(byHash.errors).toBeUndefined();
    const byText = await fetch(`${served.url}/v1/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: CATALOGUE }),
    });
    expect((await json(byText)).errors).toBeUndefined();
    const other = await fetch(`${served.url}/v1/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: "{ speciesList(first: 100) { edges { node { id } } } }" }),
    });
    const refused = await json(other);
    expect(refused.errors?.[0]).toMatchObject({
      message: "PersistedQueryNotAllowed",
      extensions: { code: "validation_failed" },
    });
  });
});
