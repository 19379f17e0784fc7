import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SpeciesSchema } from "../../src/modules/species/species.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";
import { describeProtectedRoute } from "../helpers/protected-route-suite.ts";

let t: TestApp;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  admin = await registerUser(t, { role: "admin" });
});
afterAll(() => t.close());

const care = {
  watering: "Keep evenly moist.",
  light: "Bright, indirect.",
  temperature: "18–27 °C",
  humidity: "High",
  soil: "Airy aroid mix",
  fertilizing: "Monthly in summer",
  toxicity: "Toxic to pets",
};

function newSpecies() {
  const epithet = `testii${crypto.randomUUID().replaceAll("-", "").replace(/\d/g, "").slice(0, 10)}`;
  return {
    scientificName: `Monstera ${epithet}`,
    commonNames: ["Test monstera"],
    family: "araceae",
    genus: "Monstera",
    category: "houseplant",
    careInstructions: care,
  };
}

async function create(body = newSpecies()) {
  const res = await t.request("/v1/species", jsonRequest("POST", body, admin.headers));
  expect(res.status).toBe(201);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  return { res, species: SpeciesSchema.parse(await res.json()) };
}

describe("POST /v1/species", () => {
  test("an admin's new species is readable at once by the same client (read-after-write)", async () => {
    const { res, species } = await create();
    expect(res.headers.get("location")).toBe(`http://localhost/v1/species/${species.id}`);
    expect(species.family).toBe("Araceae");
    const read = await t.request(`/v1/species/${species.id}`, { headers: admin.headers });
    expect(read.status).toBe(200);
    expect(SpeciesSchema.parse(await read.json())).toEqual(species);
  });

  test("the creation is recorded in the audit log with the admin as actor", async () => {
    const { species } = await create();
    const row = await t.deps.db.primary
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", species.id)
      .executeTakeFirstOrThrow();
    expect(row.action).toBe("species.create");
    expect(row.actor_user_id).toBe(admin.user.id);
    expect((row.changes as { after: { scientificName: string } }).after.scientificName).toBe(
      species.scientificName,
    );
  });

  test("a scientific name already in the catalogue answers 409", async () => {
    const body = newSpecies();
    await create(body);
    await expectProblem(
      await t.request("/v1/species", jsonRequest("POST", body, admin.headers)),
      409,
      "conflict",
    );
  });

  test("a regular user is refused with 403 insufficient_scope", async () => {
    const user = await registerUser(t);
    const res = await t.request("/v1/species", jsonRequest("POST", newSpecies(), user.headers));
    const body = await expectProblem(res, 403, "insufficient_scope");
    expect(body.detail).toContain("species:write");
  });
});

describe("PATCH /v1/species/{id}", () => {
  test("the cached species shows the change right after the update", async () => {
    const { species } = await create();
    const first = await t.request(`/v1/species/${species.id}`, { headers: admin.headers });
    expect(first.status).toBe(200);
    expect(await t.deps.cache.get("species-json", species.id)).toBeDefined();

    const res = await t.request(
      `/v1/species/${species.id}`,
      jsonRequest("PATCH", { commonNames: ["Renamed vine"] }, admin.headers),
    );
    expect(res.status).toBe(200);
    const updated = SpeciesSchema.parse(await res.json());
    expect(updated.commonNames).toEqual(["Renamed vine"]);
    expect(updated.scientificName).toBe(species.scientificName);

    const cached = await t.request(`/v1/species/${species.id}`, { headers: admin.headers });
    expect(SpeciesSchema.parse(await cached.json()).commonNames).toEqual(["Renamed vine"]);
    const audit = await t.deps.db.primary
      .selectFrom("audit_log")
      .select(["changes"])
      .where("entity_id", "=", species.id)
      .where("action", "=", "species.update")
      .executeTakeFirstOrThrow();
    expect(audit.changes).toEqual({
      before: { commonNames: ["Test monstera"] },
      after: { commonNames: ["Renamed vine"] },
    });
  });

  test("an unknown id answers 404", async () => {
    const res = await t.request(
      `/v1/species/${Bun.randomUUIDv7()}`,
      jsonRequest("PATCH", { category: "tree" }, admin.headers),
    );
    await expectProblem(res, 404, "not_found");
  });

  test("an empty patch is a validation error", async () => {
    const { species } = await create();
    await expectProblem(
      await t.request(`/v1/species/${species.id}`, jsonRequest("PATCH", {}, admin.headers)),
      400,
      "validation_failed",
    );
  });
});

const json = (body: unknown) => ({
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" },
});

describeProtectedRoute(() => t, "POST /v1/species", {
  method: "POST",
  path: () => "/v1/species",
  scope: "species:write",
  role: "admin",
  init: () => json(newSpecies()),
});

describeProtectedRoute(() => t, "PATCH /v1/species/{id}", {
  method: "PATCH",
  path: async () => `/v1/species/${(await create()).species.id}`,
  scope: "species:write",
  role: "admin",
  init: () => json({ category: "tree" }),
});
