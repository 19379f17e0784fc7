import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadSeedCatalogue } from "../../src/db/seed.ts";
import { SpeciesPageSchema, SpeciesSchema } from "../../src/modules/species/species.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { expectProblem } from "../helpers/problem.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function page(query: string) {
  const res = await t.request(`/v1/species${query}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  return SpeciesPageSchema.parse(await res.json());
}

describe("GET /v1/species", () => {
  test("the first page holds 20 species in scientific-name order with a link to the next page", async () => {
    const body = await page("");
    expect(body.data).toHaveLength(20);
    const names = body.data.map((s) => s.scientificName);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(body.nextCursor).toBeString();
    expect(body.links.self).toBe("http://localhost/v1/species");
    expect(body.links.next).toBe(`http://localhost/v1/species?cursor=${body.nextCursor}`);
  });

  test("following the cursor visits every seeded species exactly once", async () => {
    const seen: string[] = [];
    let next: string | null = "/v1/species?limit=100";
    while (next) {
      const body = await page(next.replace(/^(http:\/\/localhost)?\/v1\/species/, ""));
      seen.push(...body.data.map((s) => s.scientificName));
      next = body.links.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const s of await loadSeedCatalogue()) expect(seen).toContain(s.scientificName);
  });

  test("q matches common names case-insensitively", async () => {
    const body = await page("?q=SWISS%20CHEESE");
    expect(body.data.map((s) => s.scientificName)).toContain("Monstera deliciosa");
  });

  test("q matches part of a scientific name", async () => {
    const body = await page("?q=deliciosa");
    expect(body.data.map((s) => s.scientificName)).toEqual(["Monstera deliciosa"]);
  });

  test("percent and underscore in q are literal characters, not wildcards", async () => {
    expect((await page("?q=%25")).data).toHaveLength(0);
    expect((await page("?q=_")).data).toHaveLength(0);
    expect((await page("?q=Monstera%25")).data).toHaveLength(0);
  });

  test("family and genus filters match whatever the case of the input", async () => {
    const byFamily = await page("?family=moraceae&limit=100");
    expect(byFamily.data.length).toBeGreaterThan(1);
    expect(byFamily.data.every((s) => s.family === "Moraceae")).toBe(true);
    const byGenus = await page("?genus=FICUS&limit=100");
    expect(byGenus.data.length).toBeGreaterThan(1);
    expect(byGenus.data.every((s) => s.genus === "Ficus")).toBe(true);
  });

  test("a limit outside 1..100 is a validation problem naming the field", async () => {
    for (const limit of ["0", "101", "ten"]) {
      const problem = await expectProblem(
        await t.request(`/v1/species?limit=${limit}`),
        400,
        "validation_failed",
      );
      expect(problem.errors?.map((e) => e.path)).toEqual(["query.limit"]);
    }
  });

  test("a cursor that was not issued by us is refused", async () => {
    await expectProblem(await t.request("/v1/species?cursor=bm90LWEtY3Vyc29y"), 400, "invalid_cursor");
  });
});

describe("GET /v1/species/{id}", () => {
  test("a species comes with its care instructions and a self link", async () => {
    const first = (await page("?q=deliciosa")).data[0]!;
    const res = await t.request(`/v1/species/${first.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    const body = SpeciesSchema.parse(await res.json());
    expect(body.id).toBe(first.id);
    expect(body.family).toBe("Araceae");
    expect(body.careInstructions.watering.length).toBeGreaterThan(10);
    expect(body.links.self).toBe(`http://localhost/v1/species/${first.id}`);
  });

  test("the second read is answered from the Redis cache", async () => {
    const first = (await page("?q=ficus%20lyrata")).data[0]!;
    const key = `${t.config.redis.keyPrefix}cache:species-json:${first.id}`;
    expect(await t.deps.redis.cache.exists(key)).toBe(0);
    await t.request(`/v1/species/${first.id}`);
    expect(await t.deps.redis.cache.ttl(key)).toBeGreaterThan(0);
    const hitsBefore =
      (await t.deps.metrics.cacheHits.get()).values.find((v) => v.labels.cache === "species-json")?.value ??
      0;
    const res = await t.request(`/v1/species/${first.id}`);
    expect(SpeciesSchema.parse(await res.json()).id).toBe(first.id);
    const hitsAfter =
      (await t.deps.metrics.cacheHits.get()).values.find((v) => v.labels.cache === "species-json")?.value ??
      0;
    expect(hitsAfter).toBe(hitsBefore + 1);
  });

  test("an unknown id is a 404 problem", async () => {
    const problem = await expectProblem(
      await t.request("/v1/species/0190f5a2-7b1c-7d3e-8f00-1234567890ab"),
      404,
      "not_found",
    );
    expect(problem.instance).toBe("/v1/species/0190f5a2-7b1c-7d3e-8f00-1234567890ab");
  });

  test("a malformed id is a 400 problem", async () => {
    const problem = await expectProblem(await t.request("/v1/species/not-a-uuid"), 400, "validation_failed");
    expect(problem.errors?.[0]?.path).toBe("param.id");
  });
});
