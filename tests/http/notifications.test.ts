import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { insertNotification } from "../../src/modules/notifications/notifications.repo.ts";
import {
  NotificationPageSchema,
  NotificationSchema,
} from "../../src/modules/notifications/notifications.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser, type TestUser } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";
import { describeProtectedRoute } from "../helpers/protected-route-suite.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

async function notify(user: TestUser, key: string, title = `About ${key}`): Promise<string> {
  await insertNotification(t.deps.db.primary, {
    userId: user.user.id,
    key,
    kind: "identification.completed",
    title,
    body: "",
    data: { identificationId: crypto.randomUUID(), speciesId: null },
  });
  // As the worker that delivers notifications does (workers/owner-write.ts): the owner's reads see it at once.
  await t.deps.db.markWrite(`user:${user.user.id}`);
  const row = await t.deps.db.primary
    .selectFrom("notifications")
    .select("id")
    .where("user_id", "=", user.user.id)
    .where("dedupe_key", "=", key)
    .executeTakeFirstOrThrow();
  return row.id;
}

async function page(user: TestUser, query = "") {
  const res = await t.request(`/v1/notifications${query}`, { headers: user.headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  expect(res.headers.get("cache-control")).toBe("private, no-store");
  return NotificationPageSchema.parse(await res.json());
}

describe("GET /v1/notifications", () => {
  test("lists only the caller's notifications, newest first, page by page without gaps or repeats", async () => {
    const user = await registerUser(t);
    const other = await registerUser(t);
    await notify(other, "not-yours");
    const ids: string[] = [];
    for (const key of ["a", "b", "c", "d", "e"]) ids.push(await notify(user, key));

    const first = await page(user, "?limit=2");
    expect(first.data.map((n) => n.id)).toEqual([ids[4]!, ids[3]!]);
    expect(first.links.next).toBe(`http://localhost/v1/notifications?limit=2&cursor=${first.nextCursor}`);
    const second = await page(user, `?limit=2&cursor=${first.nextCursor}`);
    const third = await page(user, `?limit=2&cursor=${second.nextCursor}`);
    expect([...first.data, ...second.data, ...third.data].map((n) => n.id)).toEqual([...ids].reverse());
    expect(third.nextCursor).toBeNull();
    expect(third.links.next).toBeNull();
    expect(first.data[0]).toMatchObject({
      kind: "identification.completed",
      title: "About e",
      data: { speciesId: null },
      readAt: null,
    });
  });

  test("unread=true leaves out what was read", async () => {
    const user = await registerUser(t);
    const read = await notify(user, "read-me");
    const unread = await notify(user, "keep-me");
    expect(
      (await t.request(`/v1/notifications/${read}/read`, { method: "POST", headers: user.headers })).status,
    ).toBe(200);
    expect((await page(user, "?unread=true")).data.map((n) => n.id)).toEqual([unread]);
    expect((await page(user)).data.map((n) => n.id)).toEqual([unread, read]);
  });

  test("a cursor that is not one of ours is a 400 problem", async () => {
    const user = await registerUser(t);
    await expectProblem(
      await t.request("/v1/notifications?cursor=bogus", { headers: user.headers }),
      400,
      "invalid_cursor",
    );
  });
});

describe("POST /v1/notifications/{id}/read", () => {
  test("marks the notification read, and reading it again keeps the first time", async () => {
    const user = await registerUser(t);
    const id = await notify(user, "once");
    const res = await t.request(`/v1/notifications/${id}/read`, { method: "POST", headers: user.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    const body = NotificationSchema.parse(await res.json());
    expect(body.id).toBe(id);
    expect(body.readAt).not.toBeNull();
    const row = await t.deps.db.primary
      .selectFrom("notifications")
      .select("read_at")
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(row.read_at?.toISOString()).toBe(body.readAt!);

    const again = NotificationSchema.parse(
      await (
        await t.request(`/v1/notifications/${id}/read`, { method: "POST", headers: user.headers })
      ).json(),
    );
    expect(again.readAt).toBe(body.readAt);
  });

  test("another user's notification answers 404 and stays unread", async () => {
    const owner = await registerUser(t);
    const other = await registerUser(t);
    const id = await notify(owner, "private");
    await expectProblem(
      await t.request(`/v1/notifications/${id}/read`, { method: "POST", headers: other.headers }),
      404,
      "not_found",
    );
    const row = await t.deps.db.primary
      .selectFrom("notifications")
      .select("read_at")
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(row.read_at).toBeNull();
  });
});

describeProtectedRoute(() => t, "GET /v1/notifications", {
  method: "GET",
  path: () => "/v1/notifications",
  scope: "notifications:read",
});
describeProtectedRoute(() => t, "POST /v1/notifications/{id}/read", {
  method: "POST",
  path: async ({ caller }) => `/v1/notifications/${await notify(caller, `mine-${crypto.randomUUID()}`)}/read`,
  scope: "notifications:read",
  foreignResource: async (_app, owner) =>
    `/v1/notifications/${await notify(owner, `theirs-${crypto.randomUUID()}`)}/read`,
});
