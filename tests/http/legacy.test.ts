import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { ipHeader, jsonRequest, registerUser, type TestUser, testIp } from "../helpers/auth.ts";
import { useIdentifyApp } from "../helpers/identify.ts";
import { jpeg, notAPlantJpeg, truncatedJpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";

// Issue #12: old app builds keep working until the sunset, served in place with their old shapes.
const fx = useIdentifyApp();

const TokenPair = z.strictObject({ access: z.string().min(20), refresh: z.string().min(20) });
const LegacyUser = z.strictObject({
  id: z.string().uuid(),
  email: z.string().email(),
  display_name: z.string(),
  date_joined: z.string().datetime({ offset: true }),
});
const LegacySpecies = z.strictObject({
  id: z.string().uuid(),
  scientific_name: z.string(),
  common_names: z.array(z.string()),
  family: z.string(),
  genus: z.string(),
});
const LegacySpeciesPage = z.strictObject({
  count: z.number().int(),
  next: z.string().url().nullable(),
  previous: z.string().url().nullable(),
  results: z.array(LegacySpecies),
});
const LegacySuggestion = z.strictObject({
  plant_name: z.string(),
  scientific_name: z.string(),
  probability: z.number().min(0).max(1),
  common_names: z.array(z.string()),
  source: z.string(),
});
const LegacyIdentified = z.strictObject({
  success: z.literal(true),
  plant_name: z.string(),
  scientific_name: z.string(),
  confidence: z.number().min(0).max(1),
  suggestions: z.array(LegacySuggestion).min(1),
  care_instructions: z.record(z.string(), z.string()).nullable(),
  disease_detection: z
    .object({ is_healthy: z.boolean(), probability: z.number(), diseases: z.array(z.unknown()) })
    .nullable(),
  summary: z.string(),
});
const LegacyFailure = z.strictObject({ success: z.literal(false), error: z.string().min(1) });

function expectDeprecated(res: Response, successor: string) {
  expect(res.headers.get("deprecation")).toMatch(/^@\d+$/);
  expect(res.headers.get("sunset")).toBe(new Date("2027-06-30T23:59:59Z").toUTCString());
  expect(res.headers.get("link")).toBe(`<${successor}>; rel="successor-version"`);
  expect(res.headers.get("location")).toBeNull();
}

const post = (app: TestApp, path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, jsonRequest("POST", body, { ...ipHeader(app, testIp()), ...headers }));

describe("old auth paths", () => {
  test("POST /api/auth/token/ answers {access, refresh}, and the access token works on /v1", async () => {
    const u = await registerUser(fx.app);
    for (const path of ["/api/auth/token/", "/api/auth/token"]) {
      const res = await post(fx.app, path, { email: u.email, password: u.password });
      expect(res.status).toBe(200);
      expectDeprecated(res, "/v1/auth/login");
      expect(res.headers.get("cache-control")).toBe("private, no-store");
      const pair = TokenPair.parse(await res.json());
      const me = await fx.app.request("/v1/me", { headers: { authorization: `Bearer ${pair.access}` } });
      expect(me.status).toBe(200);
    }
  });

  test("a wrong password is a 401 problem with a `detail`, as Django's was", async () => {
    const u = await registerUser(fx.app);
    const res = await post(fx.app, "/api/auth/token/", { email: u.email, password: "not the password" });
    const problem = await expectProblem(res, 401, "invalid_credentials");
    expect(problem.detail).toBeString();
    expectDeprecated(res, "/v1/auth/login");
  });

  test("POST /api/auth/token/refresh/ rotates the pair; the old refresh token is then refused", async () => {
    const u = await registerUser(fx.app);
    const res = await post(fx.app, "/api/auth/token/refresh/", { refresh: u.refreshToken });
    expect(res.status).toBe(200);
    const pair = TokenPair.parse(await res.json());
    expect(pair.refresh).not.toBe(u.refreshToken);
    await expectProblem(
      await post(fx.app, "/api/auth/token/refresh/", { refresh: u.refreshToken }),
      401,
      "invalid_refresh_token",
    );
  });

  test("GET /api/v1/auth/user/ answers the old user shape; without a token 401", async () => {
    const u = await registerUser(fx.app);
    const res = await fx.app.request("/api/v1/auth/user/", { headers: u.headers });
    expect(res.status).toBe(200);
    expectDeprecated(res, "/v1/me");
    expect(LegacyUser.parse(await res.json())).toMatchObject({ id: u.user.id, email: u.email });
    await expectProblem(await fx.app.request("/api/v1/auth/user"), 401, "unauthenticated");
  });

  test("the old token path shares the login limit: it is no way around it", async () => {
    const app = await createTestApp({ RATE_LIMIT_LOGIN_IP: "2/15m" });
    try {
      const u = await registerUser(app);
      const ip = { "fly-client-ip": "203.0.113.91" };
      const creds = { email: u.email, password: u.password };
      expect((await app.request("/v1/auth/login", jsonRequest("POST", creds, ip))).status).toBe(200);
      expect((await app.request("/api/auth/token/", jsonRequest("POST", creds, ip))).status).toBe(200);
      await expectProblem(
        await app.request("/api/auth/token/", jsonRequest("POST", creds, ip)),
        429,
        "rate_limited",
      );
    } finally {
      await app.close();
    }
  });
});

describe("old catalogue paths", () => {
  test("species are listed page by page with count, next and previous, and each one reads alone", async () => {
    const first = await fx.app.request("/api/v1/plant-identification/species/");
    expect(first.status).toBe(200);
    expectDeprecated(first, "/v1/species");
    const page1 = LegacySpeciesPage.parse(await first.json());
    expect(page1.results).toHaveLength(20);
    expect(page1.count).toBeGreaterThan(20);
    expect(page1.previous).toBeNull();
    expect(page1.next).toBe("http://localhost/api/v1/plant-identification/species/?page=2");
    const page2 = LegacySpeciesPage.parse(await (await fx.app.request(page1.next!)).json());
    expect(page2.previous).toBe("http://localhost/api/v1/plant-identification/species/");
    expect(page2.results[0]!.id).not.toBe(page1.results[0]!.id);

    const one = await fx.app.request(`/api/v1/plant-identification/species/${page1.results[0]!.id}/`);
    expect(one.status).toBe(200);
    expect(LegacySpecies.parse(await one.json())).toEqual(page1.results[0]!);
  });

  test("search and family filter like the old API did; an unknown page or id is a 404", async () => {
    const res = await fx.app.request("/api/v1/plant-identification/species/?search=monstera&family=araceae");
    const page = LegacySpeciesPage.parse(await res.json());
    expect(page.count).toBeGreaterThan(0);
    for (const s of page.results) expect(s.family).toBe("Araceae");
    await expectProblem(
      await fx.app.request("/api/v1/plant-identification/species/?page=999"),
      404,
      "not_found",
    );
    await expectProblem(await fx.app.request("/api/v1/plant-identification/species/42/"), 404, "not_found");
  });
});

describe("old identify paths", () => {
  async function identify(user: TestUser, path: string, image: Uint8Array) {
    const form = new FormData();
    form.append("image", new Blob([image as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }), "leaf.jpg");
    form.append("image_url", "https://example.test/ignored.jpg");
    return fx.app.request(path, { method: "POST", headers: user.headers, body: form });
  }

  test.each([
    "/api/v1/plant-identification/identify/",
    "/api/plant-identification/identify/",
    "/api/plant-identification/identify",
  ])("POST %s with one `image` answers the old shape, without a redirect", async (path) => {
    const user = await registerUser(fx.app);
    const res = await identify(user, path, await jpeg());
    expect(res.status).toBe(200);
    expectDeprecated(res, "/v1/identifications");
    const body = LegacyIdentified.parse(await res.json());
    expect(body.suggestions[0]!.scientific_name).toBe(body.scientific_name);
    expect(body.confidence).toBe(body.suggestions[0]!.probability);
    // The identification is in the user's /v1 history too.
    const history = await fx.app.request("/v1/identifications", { headers: user.headers });
    expect(((await history.json()) as { data: unknown[] }).data).toHaveLength(1);
  });

  test("a photo with no plant is a 200 {success: false, error}", async () => {
    const user = await registerUser(fx.app);
    const res = await identify(user, "/api/plant-identification/identify/", await notAPlantJpeg());
    expect(res.status).toBe(200);
    LegacyFailure.parse(await res.json());
  });

  test("a broken photo is a 400 {success: false, error}, not the old server's 500", async () => {
    const user = await registerUser(fx.app);
    const res = await identify(user, "/api/plant-identification/identify/", await truncatedJpeg());
    expect(res.status).toBe(400);
    LegacyFailure.parse(await res.json());
  });

  test("no `image` field is a 400 and no token a 401, both in the old error shape", async () => {
    const user = await registerUser(fx.app);
    const form = new FormData();
    form.append("image_url", "https://example.test/a.jpg");
    const res = await fx.app.request("/api/plant-identification/identify/", {
      method: "POST",
      headers: user.headers,
      body: form,
    });
    expect(res.status).toBe(400);
    LegacyFailure.parse(await res.json());
    const anonymous = await fx.app.request("/api/plant-identification/identify/", {
      method: "POST",
      body: form,
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toContain("Bearer");
    LegacyFailure.parse(await anonymous.json());
  });
});

describe("after the sunset", () => {
  test("legacy paths answer 410 naming the successor; other unversioned GETs keep the 308", async () => {
    const app = await createTestApp({ LEGACY_SUNSET: "2026-01-01T00:00:00Z" });
    try {
      const res = await app.request(
        "/api/auth/token/",
        jsonRequest("POST", { email: "a@b.test", password: "x" }),
      );
      const problem = await expectProblem(res, 410, "endpoint_retired");
      expect(problem.detail).toContain("/v1/auth/login");
      expect(res.headers.get("link")).toBe('</v1/auth/login>; rel="successor-version"');
      const species = await app.request("/api/v1/plant-identification/species/");
      await expectProblem(species, 410, "endpoint_retired");
      const other = await app.request("/api/providers");
      expect(other.status).toBe(308);
    } finally {
      await app.close();
    }
  });
});

describe("legacy_requests_total", () => {
  test("counts calls per legacy route", async () => {
    const metric = async () => {
      const text = await fx.app.deps.metrics.registry.metrics();
      const line = text
        .split("\n")
        .find((l) => l.startsWith('legacy_requests_total{route="GET /api/v1/plant-identification/species"}'));
      return Number(line?.split(" ")[1] ?? 0);
    };
    const before = await metric();
    await fx.app.request("/api/v1/plant-identification/species/");
    await fx.app.request("/api/v1/plant-identification/species");
    expect(await metric()).toBe(before + 2);
  });
});
