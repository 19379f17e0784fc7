import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { groupmqKeys } from "../../src/infra/groupmq-keys.ts";
import {
  IdentificationPageSchema,
  IdentificationSchema,
} from "../../src/modules/identifications/identifications.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser, type TestUser } from "../helpers/auth.ts";
import { identificationRow } from "../helpers/background.ts";
import {
  filesUnder,
  identificationRowsOf,
  identifyEnv,
  mediaDir,
  objectKeysOf,
  removeDir,
  startSimulator,
  uploadForm,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { removeQueueKeys } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let dir: string;
let app: TestApp;

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  app = await createTestApp(identifyEnv(sim, dir));
});
afterAll(async () => {
  await removeQueueKeys(app);
  await app.close();
  await sim.stop();
  await removeDir(dir);
});
beforeEach(() => sim.control.reset());

function postAsync(user: TestUser, body: FormData, headers: Record<string, string> = {}) {
  return app.request("/v1/identifications", {
    method: "POST",
    headers: { ...user.headers, prefer: "respond-async", ...headers },
    body,
  });
}

async function accepted(res: Response) {
  expect(res.status).toBe(202);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  expect(res.headers.get("preference-applied")).toBe("respond-async");
  const body = IdentificationSchema.parse(await res.json());
  expect(res.headers.get("location")).toBe(`http://localhost/v1/identifications/${body.id}`);
  return body;
}

describe("POST /v1/identifications with Prefer: respond-async", () => {
  test("answers 202 at once with a queued identification, its photos stored and a job in the default lane", async () => {
    const user = await registerUser(app);
    const body = await accepted(await postAsync(user, uploadForm([await jpeg(), await jpeg()])));
    expect(body).toMatchObject({
      status: "queued",
      isPlant: null,
      confidence: null,
      suggestions: [],
      modelVersion: null,
      providers: {
        plantId: { status: "pending", cached: false },
        plantnet: { status: "pending", cached: false },
      },
    });
    expect(body.images).toHaveLength(2);
    // No provider was asked during the request.
    expect(sim.control.allCalls()).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 0 });
    expect((await identificationRow(app, body.id)).status).toBe("queued");
    const keys = await objectKeysOf(app, body.id);
    expect(keys).toHaveLength(4);
    expect(await filesUnder(dir)).toEqual(expect.arrayContaining(keys));
    const job = await app.deps.queues.queue("default").getJob(`identification.run:${body.id}`);
    expect(job.data).toMatchObject({
      name: "identification.run",
      payload: { identificationId: body.id, userId: user.user.id },
    });
  });

  test("GET shows the queued identification until a worker picks it up", async () => {
    const user = await registerUser(app);
    const { id } = await accepted(await postAsync(user, uploadForm([await jpeg()])));
    const res = await app.request(`/v1/identifications/${id}`, { headers: user.headers });
    expect(res.status).toBe(200);
    expect(IdentificationSchema.parse(await res.json())).toMatchObject({
      id,
      status: "queued",
      suggestions: [],
    });
    const list = await app.request("/v1/identifications", { headers: user.headers });
    expect(((await list.json()) as { data: { id: string; status: string }[] }).data).toEqual([
      expect.objectContaining({ id, status: "queued" }),
    ]);
  });

  test("a premium user's identification is queued in the priority lane", async () => {
    const premium = await registerUser(app, { role: "premium" });
    const { id } = await accepted(await postAsync(premium, uploadForm([await jpeg()])));
    expect((await app.deps.queues.queue("priority").getJob(`identification.run:${id}`)).data.name).toBe(
      "identification.run",
    );
    expect(
      await app.deps.queues.redis.exists(
        groupmqKeys(app.deps.queues.queue("default").namespace).job(`identification.run:${id}`),
      ),
    ).toBe(0);
  });

  test("a retry with the same Idempotency-Key answers the same 202 and queues nothing new", async () => {
    const user = await registerUser(app);
    const photo = await jpeg();
    const key = crypto.randomUUID();
    const first = await accepted(await postAsync(user, uploadForm([photo]), { "idempotency-key": key }));
    const again = await postAsync(user, uploadForm([photo]), { "idempotency-key": key });
    const replay = await accepted(again);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.id).toBe(first.id);
    expect(await identificationRowsOf(app, user.user.id)).toHaveLength(1);
  });

  test("photos that fail validation are refused before anything is stored or queued", async () => {
    const user = await registerUser(app);
    const before = await app.deps.queues.queue("default").getWaitingCount();
    const bad = new TextEncoder().encode("not an image at all, just text");
    const res = await postAsync(user, uploadForm([{ bytes: bad, type: "image/jpeg" }]));
    await expectProblem(res, 415, "unsupported_media_type");
    expect(await identificationRowsOf(app, user.user.id)).toHaveLength(0);
    expect(await app.deps.queues.queue("default").getWaitingCount()).toBe(before);
  });

  test("without the preference the identification is still answered synchronously (201)", async () => {
    const user = await registerUser(app);
    const res = await app.request("/v1/identifications", {
      method: "POST",
      headers: user.headers,
      body: uploadForm([await jpeg()]),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("preference-applied")).toBeNull();
    expect(IdentificationSchema.parse(await res.json()).status).toBe("completed");
  });
});

describe("when the queue is unreachable", () => {
  test("the request fails fast with 503 and leaves nothing in the user's history; a retry with the same key starts afresh", async () => {
    const isolated = await createTestApp({ ...identifyEnv(sim, dir), QUEUE_ENQUEUE_TIMEOUT_MS: "300" });
    const healthy = await createTestApp({
      ...identifyEnv(sim, dir),
      REDIS_KEY_PREFIX: isolated.config.redis.keyPrefix,
      JWT_SECRET: isolated.config.auth.jwtSecret,
    });
    try {
      const user = await registerUser(isolated);
      const form = uploadForm([await jpeg()]);
      const headers = { ...user.headers, prefer: "respond-async", "idempotency-key": crypto.randomUUID() };
      isolated.deps.queues.redis.disconnect();
      const started = Date.now();
      const res = await isolated.request("/v1/identifications", { method: "POST", headers, body: form });
      await expectProblem(res, 503, "service_unavailable");
      expect(res.headers.get("retry-after")).toBe("5");
      expect(Date.now() - started).toBeLessThan(5_000);

      // Not in the history, not readable; kept (failed, deleted) for the audit trail only; the photos removed.
      const history = await isolated.request("/v1/identifications", { headers: user.headers });
      expect(IdentificationPageSchema.parse(await history.json()).data).toEqual([]);
      const [row] = await identificationRowsOf(isolated, user.user.id);
      expect(row).toMatchObject({ status: "failed", failure: { code: "queue_unavailable" } });
      expect(row?.deleted_at).not.toBeNull();
      const keys = await objectKeysOf(isolated, row!.id);
      expect(keys).toHaveLength(2);
      expect((await filesUnder(dir)).filter((f) => keys.includes(f))).toEqual([]);

      // The same request again, through an instance whose queue works: a new identification, not a replay.
      const retry = await healthy.request("/v1/identifications", { method: "POST", headers, body: form });
      const body = await accepted(retry);
      expect(body.id).not.toBe(row?.id);
      expect((await identificationRow(healthy, body.id)).status).toBe("queued");
    } finally {
      await removeQueueKeys(healthy);
      await healthy.close();
      await isolated.close();
    }
  });
});
