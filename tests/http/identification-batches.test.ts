import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BatchSchema } from "../../src/modules/identification-batches/batches.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser, type TestUser } from "../helpers/auth.ts";
import {
  filesUnder,
  identificationRowsOf,
  identifyEnv,
  mediaDir,
  objectKeysOf,
  removeDir,
  startSimulator,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { describeProtectedRoute } from "../helpers/protected-route-suite.ts";
import { removeQueueKeys } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let dir: string;
let t: TestApp;

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  t = await createTestApp(identifyEnv(sim, dir));
});
afterAll(async () => {
  await removeQueueKeys(t);
  await t.close();
  await sim.stop();
  await removeDir(dir);
});

async function photos(n: number, extra: Uint8Array[] = []): Promise<FormData> {
  const form = new FormData();
  for (let i = 0; i < n; i++)
    form.append(
      "images",
      new Blob([(await jpeg({ width: 200, height: 200 })) as Uint8Array<ArrayBuffer>], {
        type: "image/jpeg",
      }),
      `p${i}.jpg`,
    );
  for (const bytes of extra)
    form.append("images", new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }), "x.jpg");
  return form;
}

function post(user: TestUser, body: FormData) {
  return t.request("/v1/identification-batches", { method: "POST", headers: user.headers, body });
}

async function createBatch(user: TestUser, n = 2) {
  const res = await post(user, await photos(n));
  expect(res.status).toBe(202);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  const body = BatchSchema.parse(await res.json());
  expect(res.headers.get("location")).toBe(`http://localhost/v1/identification-batches/${body.id}`);
  return body;
}

describe("POST /v1/identification-batches", () => {
  test("accepts 20 photos: one queued identification each, stored, and one job in the slow lane", async () => {
    const user = await registerUser(t);
    const batch = await createBatch(user, 20);
    expect(batch).toMatchObject({
      status: "queued",
      total: 20,
      progress: { completed: 0, failed: 0, pending: 20, percent: 0 },
      completedAt: null,
    });
    expect(batch.items.map((i) => i.position)).toEqual([...Array(20).keys()]);
    expect(
      batch.items.every(
        (i) =>
          i.status === "queued" &&
          i.links.identification === `http://localhost/v1/identifications/${i.identificationId}` &&
          i.links.batch === batch.links.self,
      ),
    ).toBe(true);
    const rows = await identificationRowsOf(t, user.user.id);
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.status === "queued")).toBe(true);
    const keys = (await Promise.all(batch.items.map((i) => objectKeysOf(t, i.identificationId)))).flat();
    expect(new Set(keys).size).toBe(40);
    expect(await filesUnder(dir)).toEqual(expect.arrayContaining(keys));
    const job = await t.deps.queues.queue("slow").getJob(`identification.batch:${batch.id}`);
    expect(job.data).toMatchObject({
      name: "identification.batch",
      payload: { batchId: batch.id, userId: user.user.id },
    });
    expect(sim.control.allCalls()).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 0 });
  });

  test("21 photos are refused with 400 and nothing is kept", async () => {
    const user = await registerUser(t);
    const body = await expectProblem(await post(user, await photos(21)), 400, "validation_failed");
    expect(body.errors?.[0]?.path).toBe("form.images");
    expect(await identificationRowsOf(t, user.user.id)).toHaveLength(0);
  });

  test("one photo that is not an image refuses the whole batch before anything is stored", async () => {
    const user = await registerUser(t);
    const before = await filesUnder(dir);
    const res = await post(user, await photos(2, [new TextEncoder().encode("definitely not a jpeg")]));
    await expectProblem(res, 415, "unsupported_media_type");
    expect(await identificationRowsOf(t, user.user.id)).toHaveLength(0);
    expect((await filesUnder(dir)).length).toBe(before.length);
  });

  test("a photo that does not decode refuses the batch and removes the photos already stored", async () => {
    const user = await registerUser(t);
    const before = await filesUnder(dir);
    const broken = (await jpeg()).slice(0, 300);
    const res = await post(user, await photos(5, [broken]));
    await expectProblem(res, 400, "invalid_image");
    expect(await identificationRowsOf(t, user.user.id)).toHaveLength(0);
    expect((await filesUnder(dir)).length).toBe(before.length);
  });
});

describe("GET /v1/identification-batches/{id}", () => {
  test("shows the batch with each photo's status and the progress", async () => {
    const user = await registerUser(t);
    const created = await createBatch(user, 3);
    const res = await t.request(`/v1/identification-batches/${created.id}`, { headers: user.headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const batch = BatchSchema.parse(await res.json());
    expect(batch).toEqual(created);
  });

  test("another user's batch answers 404", async () => {
    const owner = await registerUser(t);
    const other = await registerUser(t);
    const { id } = await createBatch(owner, 1);
    await expectProblem(
      await t.request(`/v1/identification-batches/${id}`, { headers: other.headers }),
      404,
      "not_found",
    );
  });
});

describeProtectedRoute(() => t, "POST /v1/identification-batches", {
  method: "POST",
  path: () => "/v1/identification-batches",
  scope: "identifications:write",
  init: async () => ({ body: await photos(1) }),
});
describeProtectedRoute(() => t, "GET /v1/identification-batches/{id}", {
  method: "GET",
  path: async ({ caller }) => `/v1/identification-batches/${(await createBatch(caller, 1)).id}`,
  scope: "identifications:read",
  foreignResource: async (_app, owner) => `/v1/identification-batches/${(await createBatch(owner, 1)).id}`,
});
