import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import {
  collect,
  createIdentification,
  graphqlClient,
  type ServedApp,
  serveApp,
  sseClient,
} from "../helpers/graphql.ts";
import { identifyEnv, mediaDir, removeDir, startSimulator } from "../helpers/identify.ts";
import { removeQueueKeys, startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

// Two API instances (separate ports, same databases, Redis and key space, same signing secret) and, started
// when a test needs it, a real worker process: an update made by the worker must reach a subscriber connected
// to the instance that did not create the identification.
let sim: ProviderSimulator;
let dir: string;
let apiA: TestApp;
let apiB: TestApp;
let servedA: ServedApp;
let servedB: ServedApp;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  const shared = identifyEnv(sim, dir, {
    REDIS_KEY_PREFIX: `test:${crypto.randomUUID()}:`,
    JWT_SECRET: crypto.randomUUID() + crypto.randomUUID(),
  });
  apiA = await createTestApp(shared);
  apiB = await createTestApp(shared);
  servedA = serveApp(apiA);
  servedB = serveApp(apiB);
});
afterAll(async () => {
  await worker?.stop();
  servedA?.stop();
  servedB?.stop();
  await removeQueueKeys(apiA);
  await apiB?.deps.close();
  await apiA?.close();
  await sim?.stop();
  if (dir) await removeDir(dir);
});

async function subscribers(channel: string): Promise<number> {
  const [, count] = (await apiA.deps.redis.cache.pubsub("NUMSUB", channel)) as [string, number];
  return Number(count);
}

describe("GraphQL subscriptions over SSE, fleet-wide through Redis pub/sub", () => {
  test("identificationUpdated on instance B follows a background identification made on A and finished by a worker; notificationAdded too", async () => {
    const user = await registerUser(apiA);
    const made = await createIdentification(graphqlClient(servedA, user.headers), { background: true });
    expect(made.status).toBe("QUEUED");

    const sse = sseClient(servedB, user.headers);
    const updates = collect<{
      identificationUpdated: { id: string; status: string; topSpecies: { scientificName: string } | null };
    }>(sse, {
      query: `subscription Follow($id: ID!) { identificationUpdated(id: $id) { id status topSpecies { scientificName } } }`,
      variables: { id: made.id },
    });
    const notifications = collect<{
      notificationAdded: { kind: string; title: string; identification: { id: string } | null };
    }>(sse, { query: `subscription { notificationAdded { kind title identification { id } } }` });
    // The current state comes first, before any change.
    await updates.until(() => updates.values.length >= 1, 30_000, "the current state");
    expect(updates.values[0]!.identificationUpdated).toMatchObject({ id: made.id, status: "QUEUED" });
    const prefix = apiA.config.redis.keyPrefix;
    await waitFor(async () => (await subscribers(`${prefix}live:notifications:${user.user.id}`)) > 0, {
      what: "the notification subscription on instance B",
    });

    // Only now a worker runs: whatever it changes, it changes after both subscriptions started.
    worker = await startWorkerProcess(workerEnv(apiA, ["default", "fast"], identifyEnv(sim, dir)));
    await updates.until(() => updates.done, 60_000, "the completed identification");
    expect(updates.errors).toEqual([]);
    const last = updates.values.at(-1)!.identificationUpdated;
    expect(last.status).toBe("COMPLETED");
    expect(last.topSpecies?.scientificName).toBeTruthy();

    await notifications.until(() => notifications.values.length >= 1, 30_000, "the notification");
    expect(notifications.values[0]!.notificationAdded).toMatchObject({
      kind: "identification.completed",
      title: "Your identification is ready",
      identification: { id: made.id },
    });
    notifications.dispose();
    // Unsubscribed when the client leaves: the instance no longer listens on the user's channel.
    await waitFor(async () => (await subscribers(`${prefix}live:notifications:${user.user.id}`)) === 0, {
      what: "the unsubscription",
    });
  }, 120_000);

  test("subscriptions check the caller like queries: no token, someone else's identification", async () => {
    const owner = await registerUser(apiA);
    const made = await createIdentification(graphqlClient(servedA, owner.headers), { background: true });
    const query = `subscription($id: ID!) { identificationUpdated(id: $id) { id status } }`;

    const anonymous = collect(sseClient(servedB), { query, variables: { id: made.id } });
    await anonymous.until(() => anonymous.done, 30_000, "the refusal");
    expect(JSON.stringify(anonymous.errors)).toContain("unauthenticated");

    const stranger = await registerUser(apiA);
    const other = collect(sseClient(servedB, stranger.headers), { query, variables: { id: made.id } });
    await other.until(() => other.done, 30_000, "the refusal");
    expect(other.values.filter(Boolean)).toEqual([]);
    expect(JSON.stringify(other.errors)).toContain("not_found");
  });
});
