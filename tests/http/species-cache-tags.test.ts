/**
 * Cache tags (issue #19) seen from two API instances sharing one Redis key space (two machines of one
 * deployment): an admin write through one instance drops the species' entries and every cached list and search
 * page, so the other instance never answers from a stale entry, even while the replica lags behind the write.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { SpeciesPageSchema, SpeciesSchema } from "../../src/modules/species/species.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { testEnv } from "../helpers/env.ts";
import { type PgPairControl, pgPairFromControlFile } from "../helpers/servers/pg-pair.ts";

let pair: PgPairControl;
let writer: TestApp;
let reader: TestApp;
let admin: TestUser;
beforeAll(async () => {
  pair = pgPairFromControlFile(testEnv.pgPairControl);
  // The lag bound is far away, so a paused replica stays in use: only the write marker sends reads elsewhere.
  const env = { REPLICA_MAX_LAG_MS: "60000", JWT_SECRET: `test-secret-${crypto.randomUUID()}` };
  writer = await createTestApp(env);
  reader = await createTestApp({ ...env, REDIS_KEY_PREFIX: writer.config.redis.keyPrefix });
  admin = await registerUser(writer, { role: "admin" });
});
afterEach(() => pair.resumeReplay());
afterAll(async () => {
  await reader.close();
  await writer.close();
});

const care = {
  watering: "Keep evenly moist.",
  light: "Bright, indirect.",
  temperature: "18–27 °C",
  humidity: "High",
  soil: "Airy aroid mix",
  fertilizing: "Monthly in summer",
  toxicity: "Toxic to pets",
};

/** A species of its own genus, so its list and search pages hold only what the test made. */
async function createSpecies(genus: string, epithet = "tagtestii") {
  const res = await writer.request(
    "/v1/species",
    jsonRequest(
      "POST",
      {
        scientificName: `${genus} ${epithet}`,
        commonNames: ["Tag test plant"],
        family: "Araceae",
        genus,
        category: "houseplant",
        careInstructions: care,
      },
      admin.headers,
    ),
  );
  expect(res.status).toBe(201);
  return SpeciesSchema.parse(await res.json());
}

function uniqueGenus(): string {
  const letters = crypto
    .randomUUID()
    .replace(/[^a-f]/g, "")
    .slice(0, 8);
  return `Tagtest${letters}`;
}

const hits = async (app: TestApp, cache: string) =>
  (await app.deps.metrics.cacheHits.get()).values.find((v) => v.labels.cache === cache)?.value ?? 0;

async function readSpecies(app: TestApp, id: string) {
  const res = await app.request(`/v1/species/${id}`);
  expect(res.status).toBe(200);
  return SpeciesSchema.parse(await res.json());
}

async function readPage(app: TestApp, query: string) {
  const res = await app.request(`/v1/species?${query}`);
  expect(res.status).toBe(200);
  return SpeciesPageSchema.parse(await res.json());
}

async function rename(id: string, commonNames: string[]) {
  const res = await writer.request(`/v1/species/${id}`, jsonRequest("PATCH", { commonNames }, admin.headers));
  expect(res.status).toBe(200);
}

describe("cache tags across instances", () => {
  test("a species cached on one instance shows an edit made through the other at once, while the replica lags", async () => {
    const species = await createSpecies(uniqueGenus());
    await pair.waitForCatchUp();
    await readSpecies(reader, species.id);
    const before = await hits(reader, "species-json");
    expect((await readSpecies(reader, species.id)).commonNames).toEqual(["Tag test plant"]);
    expect(await hits(reader, "species-json")).toBe(before + 1); // really answered from the cache

    await pair.pauseReplay();
    await rename(species.id, ["Renamed at once"]);
    // The replica still has the old row: an anonymous reader on the other instance must not get it, cached
    // or loaded.
    expect((await readSpecies(reader, species.id)).commonNames).toEqual(["Renamed at once"]);
    expect((await readSpecies(reader, species.id)).commonNames).toEqual(["Renamed at once"]);
  });

  test("cached list and search pages are dropped by any species write, made on the other instance", async () => {
    const genus = uniqueGenus();
    const species = await createSpecies(genus);
    await pair.waitForCatchUp();
    const byGenus = `genus=${genus}`;
    const bySearch = `q=${encodeURIComponent(species.scientificName)}`;
    for (const query of [byGenus, bySearch]) {
      await readPage(reader, query);
      const before = await hits(reader, "species-list");
      expect((await readPage(reader, query)).data.map((s) => s.commonNames)).toEqual([["Tag test plant"]]);
      expect(await hits(reader, "species-list")).toBe(before + 1);
    }

    await pair.pauseReplay();
    await rename(species.id, ["Renamed in lists"]);
    for (const query of [byGenus, bySearch]) {
      expect((await readPage(reader, query)).data.map((s) => s.commonNames)).toEqual([["Renamed in lists"]]);
    }
  });

  test("a new species appears at once in a list page the other instance had cached", async () => {
    const genus = uniqueGenus();
    await createSpecies(genus, "alphaii");
    await pair.waitForCatchUp();
    const query = `genus=${genus}`;
    expect((await readPage(reader, query)).data).toHaveLength(1);
    expect((await readPage(reader, query)).data).toHaveLength(1); // now cached

    await pair.pauseReplay();
    const added = await createSpecies(genus, "betaii");
    const page = await readPage(reader, query);
    expect(page.data.map((s) => s.id)).toContain(added.id);
    expect(page.data).toHaveLength(2);
  });

  test("list pages keep their own links: two spellings of one query share the entry but not the self link", async () => {
    const genus = uniqueGenus();
    await createSpecies(genus);
    const a = await readPage(reader, `genus=${genus}&limit=5`);
    const b = await readPage(reader, `limit=5&genus=${genus.toLowerCase()}`);
    expect(b.data).toEqual(a.data);
    expect(a.links.self).toBe(`http://localhost/v1/species?genus=${genus}&limit=5`);
    expect(b.links.self).toBe(`http://localhost/v1/species?limit=5&genus=${genus.toLowerCase()}`);
  });
});
