import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { ipHeader, testIp } from "../helpers/auth.ts";
import { graphqlClient, type ServedApp, serveApp } from "../helpers/graphql.ts";

let app: TestApp;
let served: ServedApp;
beforeAll(async () => {
  app = await createTestApp({
    GRAPHQL_MAX_DEPTH: "5",
    GRAPHQL_MAX_ALIASES: "3",
    GRAPHQL_MAX_TOKENS: "200",
    GRAPHQL_MAX_BATCH: "2",
    GRAPHQL_MAX_COST: "300",
    GRAPHQL_RATE_LIMIT: "500/1m",
  });
  served = serveApp(app);
});
afterAll(async () => {
  served.stop();
  await app.close();
});

/** A client of its own (its own IP): the cost-charged rate limit of one test does not spend another's. */
function client() {
  return graphqlClient(served, ipHeader(app, testIp()));
}

type Errors = { errors?: { message: string; extensions: Record<string, unknown> }[]; data?: unknown };

async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${served.url}/v1/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      ...ipHeader(app, testIp()),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { res, body: (await res.json()) as Errors | Errors[] };
}

describe("GraphQL limits", () => {
  test("depth: 8 levels by default; deeper documents are refused before they run", async () => {
    expect(parseConfig({}).graphql.maxDepth).toBe(8);
    const ok = await client()
      .query(`{ speciesList(first: 1) { edges { node { care { watering } } } } }`, {})
      .toPromise();
    expect(ok.error).toBeUndefined();
    const deep = await client()
      .query(
        `{ notifications { edges { node { identification { topSpecies { care { watering } } } } } } }`,
        {},
      )
      .toPromise();
    expect(deep.data).toBeUndefined();
    expect(deep.error?.graphQLErrors[0]?.extensions).toMatchObject({
      code: "validation_failed",
      limit: "depth",
    });
  });

  test("aliases: more than the cap is refused", async () => {
    const few = await client()
      .query(
        `{ a: speciesList(first: 1) { pageInfo { hasNextPage } } b: speciesList(first: 1) { pageInfo { hasNextPage } } }`,
        {},
      )
      .toPromise();
    expect(few.error).toBeUndefined();
    const aliases = ["a", "b", "c", "d"].map(
      (a) => `${a}: speciesList(first: 1) { pageInfo { hasNextPage } }`,
    );
    const many = await client()
      .query(`{ ${aliases.join(" ")} }`, {})
      .toPromise();
    expect(many.error?.graphQLErrors[0]?.extensions).toMatchObject({
      code: "validation_failed",
      limit: "aliases",
    });
  });

  test("tokens: a huge document is refused before it is parsed", async () => {
    const fields = Array.from({ length: 250 }, () => "hasNextPage").join(" ");
    const huge = await post({ query: `{ speciesList(first: 1) { pageInfo { ${fields} } } }` });
    const error = (huge.body as Errors).errors![0]!;
    expect(error.message).toContain("more than 200 tokens");
    expect(error.extensions).toMatchObject({ code: "validation_failed", limit: "tokens" });
  });

  test("batched operations: up to the cap in one request, more are refused", async () => {
    const op = { query: "{ speciesList(first: 1) { pageInfo { hasNextPage } } }" };
    const two = await post([op, op]);
    expect(two.res.status).toBe(200);
    expect((two.body as Errors[]).map((b) => b.errors)).toEqual([undefined, undefined]);
    const three = await post([op, op, op]);
    expect(JSON.stringify(three.body)).toContain("Batching is limited to 2 operations");
  });

  test("cost: an operation over the budget is refused with its cost; one within runs", async () => {
    const cheap = await client()
      .query(`{ speciesList(first: 10) { edges { node { care { watering } } } } }`, {})
      .toPromise();
    expect(cheap.error).toBeUndefined();
    const costly = await client()
      .query(`{ speciesList(first: 100) { edges { node { care { watering } } } } }`, {})
      .toPromise();
    expect(costly.data).toBeUndefined();
    expect(costly.error?.graphQLErrors[0]?.extensions).toMatchObject({
      code: "validation_failed",
      limit: "cost",
      cost: 400,
      max: 300,
    });
  });

  test("rate limit: charged by each operation's cost, answered 429 with Retry-After when spent", async () => {
    const headers = ipHeader(app, testIp());
    const query = { query: "{ speciesList(first: 50) { edges { node { care { watering } } } } }" }; // cost 200
    const first = await post(query, headers);
    const second = await post(query, headers);
    expect([first.res.status, second.res.status]).toEqual([200, 200]);
    const third = await post(query, headers);
    expect(third.res.status).toBe(429);
    expect(Number(third.res.headers.get("retry-after"))).toBeGreaterThan(0);
    const error = (third.body as Errors).errors![0]!;
    expect(error.extensions).toMatchObject({ code: "rate_limited", cost: 200 });
    // A cheap operation still fits in what is left (500 - 400).
    const cheap = await post({ query: "{ speciesList(first: 1) { pageInfo { hasNextPage } } }" }, headers);
    expect(cheap.res.status).toBe(200);
  });

  test("metrics: operations by name, errors by code, cost histogram", async () => {
    await client()
      .query(`query CatalogueFirstPage { speciesList(first: 2) { pageInfo { hasNextPage } } }`, {})
      .toPromise();
    const text = await app.deps.metrics.registry.metrics();
    expect(text).toContain('graphql_operations_total{operation="CatalogueFirstPage",type="query"}');
    expect(text).toMatch(
      /graphql_operation_duration_seconds_count\{operation="CatalogueFirstPage",type="query"\} \d+/,
    );
    expect(text).toMatch(/graphql_errors_total\{code="validation_failed"\} \d+/);
    expect(text).toMatch(/graphql_operation_cost_count \d+/);
  });
});
