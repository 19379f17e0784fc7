import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { SpeciesPageSchema, SpeciesSchema } from "../../src/modules/species/species.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { postIdentification, uploadForm, useIdentifyApp } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";

// Issues #12 and #18: strong ETags on species and identification reads, Cache-Control per resource.
const fx = useIdentifyApp();

async function firstSpecies(app: TestApp) {
  const res = await app.request("/v1/species?limit=1");
  return SpeciesPageSchema.parse(await res.json()).data[0]!;
}

describe("the public catalogue", () => {
  test("a species is public for 5 minutes with a strong ETag; If-None-Match answers 304 without a body", async () => {
    const { id } = await firstSpecies(fx.app);
    const res = await fx.app.request(`/v1/species/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(SpeciesSchema.parse(await res.json()).id).toBe(id);

    const again = await fx.app.request(`/v1/species/${id}`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("cache-control")).toBe("public, max-age=300");
    expect(await again.text()).toBe("");
  });

  test("a weak or listed validator matches too; another one gets the full answer", async () => {
    const { id } = await firstSpecies(fx.app);
    const etag = (await fx.app.request(`/v1/species/${id}`)).headers.get("etag")!;
    const listed = await fx.app.request(`/v1/species/${id}`, {
      headers: { "if-none-match": `"other", W/${etag}` },
    });
    expect(listed.status).toBe(304);
    const stale = await fx.app.request(`/v1/species/${id}`, { headers: { "if-none-match": '"stale"' } });
    expect(stale.status).toBe(200);
    expect(stale.headers.get("etag")).toBe(etag);
  });

  test("an admin's edit changes the ETag, so a revalidating app gets the new species", async () => {
    const admin = await registerUser(fx.app, { role: "admin" });
    const epithet = `etagii${crypto.randomUUID().replaceAll("-", "").replace(/\d/g, "").slice(0, 10)}`;
    const care = { watering: "w", light: "l", temperature: "t", humidity: "h", soil: "s", fertilizing: "f" };
    const created = await fx.app.request(
      "/v1/species",
      jsonRequest(
        "POST",
        {
          scientificName: `Monstera ${epithet}`,
          family: "Araceae",
          genus: "Monstera",
          category: "houseplant",
          careInstructions: { ...care, toxicity: "x" },
        },
        admin.headers,
      ),
    );
    expect(created.status).toBe(201);
    const { id } = SpeciesSchema.parse(await created.json());
    // The admin's own reads stay on the primary (read-after-write); the public route still serves them.
    const first = await fx.app.request(`/v1/species/${id}`, { headers: admin.headers });
    expect(first.status).toBe(200);
    const before = first.headers.get("etag")!;
    const patched = await fx.app.request(
      `/v1/species/${id}`,
      jsonRequest("PATCH", { commonNames: [`renamed ${crypto.randomUUID()}`] }, admin.headers),
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.get("cache-control")).toBe("private, no-store");
    const after = await fx.app.request(`/v1/species/${id}`, {
      headers: { ...admin.headers, "if-none-match": before },
    });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(before);
  });

  test("a catalogue page is public with an ETag and revalidates", async () => {
    const res = await fx.app.request("/v1/species?limit=3");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const etag = res.headers.get("etag")!;
    const again = await fx.app.request("/v1/species?limit=3", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });
});

describe("a user's identifications", () => {
  async function identify(user: TestUser) {
    const form = uploadForm([await jpeg({ width: 200, height: 200 })], { includeHealth: "false" });
    const res = await postIdentification(fx.app, user.headers, form);
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    return IdentificationSchema.parse(await res.json());
  }

  test("are private, no-store, with an ETag the app can revalidate with", async () => {
    const user = await registerUser(fx.app);
    const created = await identify(user);
    const res = await fx.app.request(`/v1/identifications/${created.id}`, { headers: user.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const etag = res.headers.get("etag")!;
    expect(etag).toStartWith('"');
    const again = await fx.app.request(`/v1/identifications/${created.id}`, {
      headers: { ...user.headers, "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("cache-control")).toBe("private, no-store");

    const list = await fx.app.request("/v1/identifications", { headers: user.headers });
    expect(list.headers.get("cache-control")).toBe("private, no-store");
    const listEtag = list.headers.get("etag")!;
    await identify(user);
    const changed = await fx.app.request("/v1/identifications", {
      headers: { ...user.headers, "if-none-match": listEtag },
    });
    expect(changed.status).toBe(200);
  });

  test("another user's ETag never reveals the identification: 404, not 304", async () => {
    const owner = await registerUser(fx.app);
    const created = await identify(owner);
    const etag = (
      await fx.app.request(`/v1/identifications/${created.id}`, { headers: owner.headers })
    ).headers.get("etag")!;
    const other = await registerUser(fx.app);
    const res = await fx.app.request(`/v1/identifications/${created.id}`, {
      headers: { ...other.headers, "if-none-match": etag },
    });
    expect(res.status).toBe(404);
  });
});

type Operation = {
  security?: Record<string, string[]>[];
  parameters?: { in: string; required?: boolean }[];
  responses: Record<string, { headers?: Record<string, { description?: string }> }>;
};

describe("every authenticated operation", () => {
  let t: TestApp;
  let doc: { paths: Record<string, Record<string, Operation>> };
  beforeAll(async () => {
    t = await createTestApp();
    doc = (await (await t.request("/v1/openapi.json")).json()) as typeof doc;
  });
  afterAll(() => t.close());

  const authenticated = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => (op.security ?? []).some((r) => Object.keys(r).length > 0))
        .map(([method, op]) => ({ path, method, op })),
    );

  test("documents Cache-Control: private, no-store on each of its successful answers", () => {
    const ops = authenticated();
    expect(ops.length).toBeGreaterThan(20);
    for (const { path, method, op } of ops) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!status.startsWith("2") && status !== "304") continue;
        expect(response.headers?.["Cache-Control"]?.description, `${method} ${path} ${status}`).toContain(
          "`private, no-store`",
        );
      }
    }
  });

  test("answers with Cache-Control no-store when called, and private, no-store on success", async () => {
    const admin = await registerUser(t, { role: "admin" });
    let successes = 0;
    // Reads first, and deleting the account last: it would sign the admin out of the rest.
    const order = (m: string, p: string) => (m === "get" ? 0 : p === "/v1/me" && m === "delete" ? 2 : 1);
    const ops = authenticated().sort((a, b) => order(a.method, a.path) - order(b.method, b.path));
    for (const { path, method } of ops) {
      const url = path.replaceAll(/\{[^}]+\}/g, "0190f5a2-7b1c-7d3e-8f00-1234567890ab");
      const res = await t.request(url, {
        method: method.toUpperCase(),
        headers: { ...admin.headers, "content-type": "application/json" },
        body: method === "get" || method === "delete" ? undefined : "{}",
      });
      const cacheControl = res.headers.get("cache-control") ?? "";
      expect(cacheControl, `${method} ${path} -> ${res.status}`).toContain("no-store");
      if (res.status >= 200 && res.status < 300) {
        successes += 1;
        expect(cacheControl, `${method} ${path}`).toBe("private, no-store");
      }
      await res.body?.cancel();
    }
    expect(successes).toBeGreaterThan(5);
  });
});
