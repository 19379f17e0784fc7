/**
 * The mobile journey (issue #12), written only against the SDK generated from the live document
 * (`bun run sdk`, run by scripts/test.ts before the suite) and type-checked with --strict (tsconfig.sdk.json),
 * against real API and worker processes. Like most apps it attaches its token to every request through the
 * SDK's `auth` callback, which fills both security schemes (bearer and X-API-Key).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { client } from "../../sdk/client/client.gen";
import {
  createIdentification,
  deleteIdentification,
  getIdentification,
  getMe,
  getSpecies,
  type Identification,
  listIdentifications,
  listSpecies,
  login,
  logout,
  type Problem,
  refreshSession,
  register,
  type Session,
} from "../../sdk/client/index";
import { waitFor } from "../helpers/app.ts";
import { processEnv } from "../helpers/env.ts";
import { identifyEnv, startSimulator } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { type ChildProcess, spawnBun } from "../helpers/process.ts";
import { startWorkerProcess, type WorkerProcess } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let mediaDir: string;
let api: ChildProcess;
let worker: WorkerProcess;
/** What the app holds: the access token it attaches to every request. */
let accessToken: string | undefined;

beforeAll(async () => {
  sim = startSimulator();
  mediaDir = await mkdtemp(join(tmpdir(), "plantc-journey-"));
  const prefix = `test:${crypto.randomUUID()}:`;
  const shared = {
    ...processEnv(prefix),
    JWT_SECRET: `journey-${crypto.randomUUID()}-${crypto.randomUUID()}`,
    ...identifyEnv(sim, mediaDir),
  };
  api = spawnBun("src/main.ts", { ...shared, PORT: "0", SEED_ON_START: "false" });
  const listening = await api.waitForLine((l) => l.message === "api listening", "the API to listen", 20_000);
  worker = await startWorkerProcess({ ...shared, WORKER_QUEUES: "default,fast", WORKER_PORT: "0" });
  client.setConfig({ baseUrl: String(listening.url).replace(/\/$/, ""), auth: () => accessToken });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([api?.stop(), worker?.stop()]);
  await sim?.stop();
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
  // The test's own keys in the shared Redis are left to expire with their TTLs; queue keys are namespaced.
});

function expectProblem(error: unknown, code: Problem["code"]): Problem {
  const problem = error as Problem;
  expect(problem.code).toBe(code);
  return problem;
}

async function signIn(email: string, password: string): Promise<Session> {
  const { data, response } = await login({ body: { email, password } });
  expect(response?.status).toBe(200);
  accessToken = data!.accessToken;
  return data!;
}

test("a new user's journey through the app, on the generated SDK", async () => {
  // Register (202 whether or not the address is taken), then sign in: an unconfirmed account may identify a
  // few times (UNVERIFIED_IDENTIFICATION_ALLOWANCE), which the journey stays within.
  const email = `journey-${crypto.randomUUID()}@example.test`;
  const password = `a long password ${crypto.randomUUID()}`;
  const registered = await register({ body: { email, password, displayName: "Journey" } });
  expect(registered.response?.status).toBe(202);
  let session = await signIn(email, password);
  expect(session.user.email).toBe(email);

  // The catalogue, page by page to the end, following the absolute `links.next`.
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const { data } = await listSpecies({ query: { limit: 25, cursor } });
    for (const s of data!.data) seen.add(s.id);
    if (!data!.links.next) break;
    expect(new URL(data!.links.next).searchParams.get("cursor")).toBe(data!.nextCursor);
    cursor = data!.nextCursor ?? undefined;
  }
  expect(seen.size).toBeGreaterThan(25);

  // One species, then again with its ETag: 304, nothing downloaded.
  const [speciesId] = [...seen];
  const first = await getSpecies({ path: { id: speciesId! } });
  expect(first.data!.careInstructions.watering).toBeString();
  const etag = first.response?.headers.get("etag") ?? "";
  expect(etag).toStartWith('"');
  const again = await getSpecies({ path: { id: speciesId! }, headers: { "If-None-Match": etag } });
  expect(again.response?.status).toBe(304);

  // Upload a photo with an Idempotency-Key; the retry (a flaky mobile network) replays the same answer.
  const photo = new Blob([(await jpeg()) as Uint8Array<ArrayBuffer>], { type: "image/jpeg" });
  const key = crypto.randomUUID();
  const upload = () =>
    createIdentification({ body: { images: [photo], includeHealth: false }, headers: { "idempotency-key": key } });
  const made = await upload();
  expect(made.response?.status).toBe(201);
  const identification: Identification = made.data!;
  expect(identification.images[0]!.url).toStartWith("http");
  const replay = await upload();
  expect(replay.response?.headers.get("idempotent-replayed")).toBe("true");
  expect(replay.data!.id).toBe(identification.id);

  // In the background: 202, then poll until a worker has done it.
  const queued = await createIdentification({
    body: { images: [photo], organs: ["leaf"] },
    headers: { prefer: "respond-async" },
  });
  expect(queued.response?.status).toBe(202);
  const done = await waitFor(
    async () => {
      const { data } = await getIdentification({ path: { id: queued.data!.id } });
      return data?.status === "completed" || data?.status === "failed" ? data : undefined;
    },
    { timeoutMs: 30_000, what: "the background identification" },
  );
  expect(done?.status).toBe("completed");
  expect(done?.suggestions.length).toBeGreaterThan(0);

  // History, one item per page, to the end.
  const history: string[] = [];
  let page = await listIdentifications({ query: { limit: 1 } });
  for (;;) {
    history.push(...page.data!.data.map((i) => i.id));
    if (!page.data!.nextCursor) break;
    page = await listIdentifications({ query: { limit: 1, cursor: page.data!.nextCursor } });
  }
  expect(history).toEqual([queued.data!.id, identification.id]);

  // Delete one; reading it again is a problem the app handles by its code.
  const deleted = await deleteIdentification({ path: { id: identification.id } });
  expect(deleted.response?.status).toBe(204);
  const gone = await getIdentification({ path: { id: identification.id } });
  expect(gone.response?.status).toBe(404);
  expectProblem(gone.error, "not_found");

  // A second device signs in, then signs out: its access token is now stale, but still attached by the app.
  const other = await signIn(email, password);
  expect((await logout({ body: { refreshToken: other.refreshToken } })).response?.status).toBe(204);
  // Protected calls tell the app to sign in again...
  const refused = await getMe();
  expect(refused.response?.status).toBe(401);
  expectProblem(refused.error, "invalid_token");
  // ...while refresh, a public operation, ignores the stale token and renews the first session.
  const refreshed = await refreshSession({ body: { refreshToken: session.refreshToken } });
  expect(refreshed.response?.status).toBe(200);
  session = refreshed.data!;
  accessToken = session.accessToken;
  expect((await getMe()).data!.email).toBe(email);

  // Sign out: the refresh token no longer works.
  expect((await logout({ body: { refreshToken: session.refreshToken } })).response?.status).toBe(204);
  const after = await refreshSession({ body: { refreshToken: session.refreshToken } });
  expect(after.response?.status).toBe(401);
  expectProblem(after.error, "invalid_refresh_token");
}, 120_000);
