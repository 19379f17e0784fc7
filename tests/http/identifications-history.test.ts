import { describe, expect, test } from "bun:test";
import {
  type IdentificationResource as Identification,
  IdentificationPageSchema,
  IdentificationSchema,
} from "../../src/modules/identifications/identifications.schemas.ts";
import { createTestApp } from "../helpers/app.ts";
import { registerUser, type TestUser } from "../helpers/auth.ts";
import {
  filesUnder,
  identifyEnv,
  mediaDir,
  postIdentification,
  removeDir,
  uploadForm,
  useIdentifyApp,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";

const fx = useIdentifyApp();

async function identifyAs(user: TestUser): Promise<Identification> {
  const res = await postIdentification(
    fx.app,
    user.headers,
    uploadForm([await jpeg({ width: 200, height: 200 })], { includeHealth: "false" }),
  );
  expect(res.status).toBe(201);
  return IdentificationSchema.parse(await res.json());
}

async function page(user: TestUser, query = "") {
  const res = await fx.app.request(`/v1/identifications${query}`, { headers: user.headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  return IdentificationPageSchema.parse(await res.json());
}

describe("GET /v1/identifications/{id}", () => {
  test("answers the identification as it was created", async () => {
    const user = await registerUser(fx.app);
    const created = await identifyAs(user);
    const res = await fx.app.request(`/v1/identifications/${created.id}`, { headers: user.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(IdentificationSchema.parse(await res.json())).toEqual(created);
  });

  test("another user's identification is a 404, never a 403", async () => {
    const owner = await registerUser(fx.app);
    const other = await registerUser(fx.app);
    const created = await identifyAs(owner);
    await expectProblem(
      await fx.app.request(`/v1/identifications/${created.id}`, { headers: other.headers }),
      404,
      "not_found",
    );
  });

  test("an id that is not a UUID is a 400", async () => {
    const user = await registerUser(fx.app);
    await expectProblem(
      await fx.app.request("/v1/identifications/abc", { headers: user.headers }),
      400,
      "validation_failed",
    );
  });
});

describe("GET /v1/identifications", () => {
  test("lists only the caller's identifications, newest first, page by page without gaps or repeats", async () => {
    const user = await registerUser(fx.app);
    const other = await registerUser(fx.app);
    const mine: Identification[] = [];
    for (let i = 0; i < 5; i++) mine.push(await identifyAs(user));
    await identifyAs(other);

    const seen: string[] = [];
    let query = "?limit=2";
    for (let pages = 0; pages < 5; pages++) {
      const p = await page(user, query);
      seen.push(...p.data.map((d) => d.id));
      if (!p.nextCursor) {
        expect(p.links.next).toBeNull();
        break;
      }
      expect(p.links.next).toBe(`http://localhost/v1/identifications?limit=2&cursor=${p.nextCursor}`);
      query = `?limit=2&cursor=${p.nextCursor}`;
    }
    expect(seen).toEqual(mine.map((m) => m.id).reverse());
  });

  test("filters by creation time, minimum confidence and top species", async () => {
    const user = await registerUser(fx.app);
    const made: Identification[] = [];
    for (let i = 0; i < 4; i++) made.push(await identifyAs(user));

    const since = made[2]!.createdAt;
    expect((await page(user, `?from=${encodeURIComponent(since)}`)).data.map((d) => d.id)).toEqual([
      made[3]!.id,
      made[2]!.id,
    ]);
    expect((await page(user, `?to=${encodeURIComponent(since)}`)).data.map((d) => d.id)).toEqual([
      made[1]!.id,
      made[0]!.id,
    ]);

    const threshold = [...made.map((m) => m.confidence!)].sort((a, b) => a - b)[2]!;
    const confident = await page(user, `?minConfidence=${threshold}`);
    expect(confident.data.map((d) => d.id).sort()).toEqual(
      made
        .filter((m) => m.confidence! >= threshold)
        .map((m) => m.id)
        .sort(),
    );
    expect(confident.data.length).toBeGreaterThan(0);

    const speciesId = made[0]!.suggestions[0]!.speciesId!;
    const bySpecies = await page(user, `?speciesId=${speciesId}`);
    expect(bySpecies.data.map((d) => d.id).sort()).toEqual(
      made
        .filter((m) => m.suggestions[0]?.speciesId === speciesId)
        .map((m) => m.id)
        .sort(),
    );
  });

  test("a cursor that is not one of ours is a 400", async () => {
    const user = await registerUser(fx.app);
    await expectProblem(
      await fx.app.request("/v1/identifications?cursor=bm9wZQ", { headers: user.headers }),
      400,
      "invalid_cursor",
    );
  });

  test("a minConfidence above 1 is a 400 naming the parameter", async () => {
    const user = await registerUser(fx.app);
    const body = await expectProblem(
      await fx.app.request("/v1/identifications?minConfidence=2", { headers: user.headers }),
      400,
      "validation_failed",
    );
    expect(body.errors?.[0]?.path).toBe("query.minConfidence");
  });
});

describe("DELETE /v1/identifications/{id}", () => {
  test("soft-deletes: gone from history and GET, images no longer served, rows kept and marked, audited", async () => {
    const user = await registerUser(fx.app);
    const created = await identifyAs(user);
    const kept = await identifyAs(user);
    expect((await fx.app.request(created.images[0]!.url)).status).toBe(200);

    const res = await fx.app.request(`/v1/identifications/${created.id}`, {
      method: "DELETE",
      headers: user.headers,
    });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");

    await expectProblem(
      await fx.app.request(`/v1/identifications/${created.id}`, { headers: user.headers }),
      404,
      "not_found",
    );
    expect((await page(user)).data.map((d) => d.id)).toEqual([kept.id]);
    await expectProblem(await fx.app.request(created.images[0]!.url), 404, "not_found");
    await expectProblem(await fx.app.request(created.images[0]!.thumbnailUrl), 404, "not_found");
    expect((await fx.app.request(kept.images[0]!.url)).status).toBe(200);

    const db = fx.app.deps.db.primary;
    const row = await db
      .selectFrom("identifications")
      .select("deleted_at")
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).toBeInstanceOf(Date);
    const media = await db
      .selectFrom("media")
      .select("deleted_at")
      .where("identification_id", "=", created.id)
      .execute();
    expect(media.every((m) => m.deleted_at instanceof Date)).toBe(true);
    const audit = await db
      .selectFrom("audit_log")
      .select(["action", "actor_user_id"])
      .where("entity_id", "=", created.id)
      .orderBy("created_at")
      .execute();
    expect(audit).toEqual([
      { action: "identification.create", actor_user_id: user.user.id },
      { action: "identification.delete", actor_user_id: user.user.id },
    ]);
  });

  test("deleting twice, or someone else's identification, is a 404", async () => {
    const user = await registerUser(fx.app);
    const other = await registerUser(fx.app);
    const created = await identifyAs(user);
    await expectProblem(
      await fx.app.request(`/v1/identifications/${created.id}`, { method: "DELETE", headers: other.headers }),
      404,
      "not_found",
    );
    expect(
      (await fx.app.request(`/v1/identifications/${created.id}`, { method: "DELETE", headers: user.headers }))
        .status,
    ).toBe(204);
    await expectProblem(
      await fx.app.request(`/v1/identifications/${created.id}`, { method: "DELETE", headers: user.headers }),
      404,
      "not_found",
    );
  });

  test("with a CDN configured, photos stay private (signed API URLs) and deleting also removes the stored objects", async () => {
    const cdnDir = await mediaDir();
    const cdnApp = await createTestApp(
      identifyEnv(fx.sim, cdnDir, { MEDIA_PUBLIC_BASE_URL: "https://media.example.test" }),
    );
    try {
      const user = await registerUser(cdnApp);
      const res = await postIdentification(
        cdnApp,
        user.headers,
        uploadForm([await jpeg()], { includeHealth: "false" }),
      );
      const created = IdentificationSchema.parse(await res.json());
      // The CDN is for public catalogue images; a user's photos are never served from it.
      expect(created.images[0]!.url).toStartWith(`http://localhost/v1/media/identifications/${created.id}/`);
      expect(await filesUnder(cdnDir)).toHaveLength(2);
      expect(
        (
          await cdnApp.request(`/v1/identifications/${created.id}`, {
            method: "DELETE",
            headers: user.headers,
          })
        ).status,
      ).toBe(204);
      expect(await filesUnder(cdnDir)).toEqual([]);
    } finally {
      await cdnApp.close();
      await removeDir(cdnDir);
    }
  });
});
