import { describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { registerUser } from "../helpers/auth.ts";
import { identificationRowsOf, postIdentification, uploadForm, useIdentifyApp } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";

const fx = useIdentifyApp();

const withKey = (key: string) => ({ "idempotency-key": key });

describe("Idempotency-Key on POST /v1/identifications", () => {
  test("a retry with the same key and request answers the stored identification: same id, no provider call, no new row", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const key = crypto.randomUUID();
    const first = await postIdentification(
      fx.app,
      user.headers,
      uploadForm([photo], { organs: "leaf" }),
      withKey(key),
    );
    expect(first.status).toBe(201);
    const original = IdentificationSchema.parse(await first.json());
    const calls = fx.sim.control.allCalls();

    const retry = await postIdentification(
      fx.app,
      user.headers,
      uploadForm([photo], { organs: "leaf" }),
      withKey(key),
    );
    expect(retry.status).toBe(201);
    expect(retry.headers.get("content-type")).toStartWith("application/json");
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.headers.get("location")).toBe(first.headers.get("location")!);
    expect(IdentificationSchema.parse(await retry.json())).toEqual(original);
    expect(fx.sim.control.allCalls()).toEqual(calls);
    expect(await identificationRowsOf(fx.app, user.user.id)).toHaveLength(1);

    const stored = await fx.app.deps.db.primary
      .selectFrom("idempotency_keys")
      .selectAll()
      .where("user_id", "=", user.user.id)
      .where("key", "=", key)
      .executeTakeFirstOrThrow();
    expect(stored.resource_id).toBe(original.id);
    const lifetimeHours = (stored.expires_at.getTime() - stored.created_at.getTime()) / 3_600_000;
    expect(lifetimeHours).toBeCloseTo(24, 3);
  });

  test("the same key with another photo is a 422 and identifies nothing", async () => {
    const user = await registerUser(fx.app);
    const key = crypto.randomUUID();
    expect(
      (await postIdentification(fx.app, user.headers, uploadForm([await jpeg()]), withKey(key))).status,
    ).toBe(201);
    fx.sim.control.resetCalls();
    const res = await postIdentification(fx.app, user.headers, uploadForm([await jpeg()]), withKey(key));
    await expectProblem(res, 422, "idempotency_key_reused");
    expect(fx.sim.control.allCalls()).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 0 });
    expect(await identificationRowsOf(fx.app, user.user.id)).toHaveLength(1);
  });

  test("the same key with the same photo but other fields is a 422", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const key = crypto.randomUUID();
    expect(
      (await postIdentification(fx.app, user.headers, uploadForm([photo], { organs: "leaf" }), withKey(key)))
        .status,
    ).toBe(201);
    const res = await postIdentification(
      fx.app,
      user.headers,
      uploadForm([photo], { organs: "flower" }),
      withKey(key),
    );
    await expectProblem(res, 422, "idempotency_key_reused");
  });

  test("keys belong to one user: another user's identical key is a separate request", async () => {
    const alice = await registerUser(fx.app);
    const bob = await registerUser(fx.app);
    const photo = await jpeg();
    const key = crypto.randomUUID();
    const a = IdentificationSchema.parse(
      await (await postIdentification(fx.app, alice.headers, uploadForm([photo]), withKey(key))).json(),
    );
    const res = await postIdentification(fx.app, bob.headers, uploadForm([photo]), withKey(key));
    expect(res.status).toBe(201);
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    expect(IdentificationSchema.parse(await res.json()).id).not.toBe(a.id);
  });

  test("an expired key (older than 24 hours) identifies again", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const key = crypto.randomUUID();
    const first = IdentificationSchema.parse(
      await (await postIdentification(fx.app, user.headers, uploadForm([photo]), withKey(key))).json(),
    );
    await fx.app.deps.db.primary
      .updateTable("idempotency_keys")
      .set({ expires_at: sql`now() - interval '1 second'` })
      .where("user_id", "=", user.user.id)
      .execute();
    const again = await postIdentification(fx.app, user.headers, uploadForm([photo]), withKey(key));
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    const second = IdentificationSchema.parse(await again.json());
    expect(second.id).not.toBe(first.id);
    const rows = await fx.app.deps.db.primary
      .selectFrom("idempotency_keys")
      .select("resource_id")
      .where("user_id", "=", user.user.id)
      .execute();
    expect(rows).toEqual([{ resource_id: second.id }]);
  });

  test("a concurrent request with a key still in progress is a 409 with Retry-After; its retry gets the stored answer", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const key = crypto.randomUUID();
    fx.sim.control.setLatency("plant-id", 300);
    const slow = postIdentification(fx.app, user.headers, uploadForm([photo]), withKey(key));
    await fx.sim.control.whenCalled("plant-id");
    const concurrent = await postIdentification(fx.app, user.headers, uploadForm([photo]), withKey(key));
    await expectProblem(concurrent, 409, "idempotency_key_in_use");
    expect(concurrent.headers.get("retry-after")).toBe("1");
    const done = IdentificationSchema.parse(await (await slow).json());

    const retry = await postIdentification(fx.app, user.headers, uploadForm([photo]), withKey(key));
    expect(retry.status).toBe(201);
    expect(IdentificationSchema.parse(await retry.json()).id).toBe(done.id);
    expect(await identificationRowsOf(fx.app, user.user.id)).toHaveLength(1);
  });

  test("a request that failed (503) does not use up its key: the retry identifies", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const key = crypto.randomUUID();
    fx.sim.control.failWith("plant-id", 503, 1);
    fx.sim.control.failWith("plantnet", 503, 1);
    await expectProblem(
      await postIdentification(fx.app, user.headers, uploadForm([photo]), withKey(key)),
      503,
      "providers_unavailable",
    );
    const retry = await postIdentification(fx.app, user.headers, uploadForm([photo]), withKey(key));
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
  });

  test("a malformed key is a 400", async () => {
    const user = await registerUser(fx.app);
    const res = await postIdentification(
      fx.app,
      user.headers,
      uploadForm([await jpeg()]),
      withKey("has spaces in it"),
    );
    const body = await expectProblem(res, 400, "validation_failed");
    expect(body.errors?.[0]?.path).toBe("header.idempotency-key");
    expect(await identificationRowsOf(fx.app, user.user.id)).toHaveLength(0);
  });
});
