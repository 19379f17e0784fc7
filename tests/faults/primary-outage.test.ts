import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { jsonRequest, registerUser } from "../helpers/auth.ts";
import {
  filesUnder,
  identifyEnv,
  mediaDir,
  postIdentification,
  removeDir,
  startSimulator,
  uploadForm,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import type { PgPair } from "../helpers/servers/pg-pair.ts";
import { startMigratedPgPair } from "../helpers/servers/private-pg.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

// The primary is stopped for real, so this file has a PostgreSQL pair of its own (the shared one stays up).
let pair: PgPair;
let sim: ProviderSimulator;
let dir: string;
let t: TestApp;
beforeAll(async () => {
  [pair, sim, dir] = await Promise.all([startMigratedPgPair(), startSimulator(), mediaDir()]);
  t = await createTestApp(
    identifyEnv(sim, dir, { DATABASE_URL: pair.primaryUrl, DATABASE_REPLICA_URL: pair.replicaUrl }),
  );
}, 60_000);
afterAll(async () => {
  await t?.close();
  await Promise.all([pair?.stop(), sim?.stop()]);
  if (dir) await removeDir(dir);
});

/** "Never a hang": far above every deadline on the database path, far below a test's time-out. */
const ANSWER_BOUND_MS = 10_000;

async function timed(request: () => Promise<Response>): Promise<{ res: Response; ms: number }> {
  const started = performance.now();
  const res = await request();
  return { res, ms: performance.now() - started };
}

describe("a primary outage", () => {
  test("every request answers at once (reads from the replica, writes 503 with Retry-After) and the API recovers by itself", async () => {
    const u = await registerUser(t);
    const me = () => t.request("/v1/me", { headers: u.headers });
    const rename = (displayName: string) =>
      t.request("/v1/me", jsonRequest("PATCH", { displayName }, u.headers));
    const submit = async () =>
      postIdentification(t, { ...u.headers, prefer: "respond-async" }, uploadForm([await jpeg()]));
    expect((await me()).status).toBe(200);
    // The replica has this user's registration, and the API knows it has.
    await pair.waitForCatchUp();
    await t.deps.db.monitor?.check();

    await pair.stopPrimary();
    try {
      // Twice: the first round meets the outage unannounced, the second meets the fail-fast gate.
      for (let round = 0; round < 2; round++) {
        const [read, write, queued] = await Promise.all([
          timed(me),
          timed(() => rename("During")),
          timed(submit),
        ]);
        expect(read.res.status).toBe(200);
        expect(UserSchema.parse(await read.res.json()).displayName).toBe("Test User");
        for (const { res } of [write, queued]) {
          await expectProblem(res, 503, "service_unavailable");
          expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
        }
        for (const { ms } of [read, write, queued]) expect(ms).toBeLessThan(ANSWER_BOUND_MS);
      }
      // The refused upload left nothing behind.
      expect(await filesUnder(dir)).toEqual([]);
    } finally {
      await pair.startPrimary();
    }

    await waitFor(async () => (await rename("After")).status === 200, {
      timeoutMs: 15_000,
      what: "writes to succeed once the primary is back",
    });
    expect(UserSchema.parse(await (await me()).json()).displayName).toBe("After");
    expect((await submit()).status).toBe(202);
  }, 60_000);

  test("a primary that hangs (frozen, its sockets open) costs a request its deadlines, never a hang", async () => {
    const deadlines = {
      DATABASE_CONNECT_TIMEOUT_MS: "1000",
      DATABASE_ACQUIRE_TIMEOUT_MS: "1000",
      DATABASE_STATEMENT_TIMEOUT_MS: "1500",
      DATABASE_TRANSACTION_TIMEOUT_MS: "3000",
    };
    const hung = await createTestApp(
      identifyEnv(sim, dir, {
        DATABASE_URL: pair.primaryUrl,
        DATABASE_REPLICA_URL: pair.replicaUrl,
        ...deadlines,
      }),
    );
    try {
      const u = await registerUser(hung);
      const me = () => hung.request("/v1/me", { headers: u.headers });
      const rename = (displayName: string) =>
        hung.request("/v1/me", jsonRequest("PATCH", { displayName }, u.headers));
      expect((await me()).status).toBe(200);
      await pair.waitForCatchUp();
      await hung.deps.db.monitor?.check();

      await pair.signalPrimary("SIGSTOP");
      try {
        for (let round = 0; round < 2; round++) {
          const [read, write] = await Promise.all([timed(me), timed(() => rename("Frozen"))]);
          expect(read.res.status).toBe(200);
          await expectProblem(write.res, 503, "service_unavailable");
          for (const { ms } of [read, write]) expect(ms).toBeLessThan(ANSWER_BOUND_MS);
        }
      } finally {
        await pair.signalPrimary("SIGCONT");
      }
      await waitFor(async () => (await rename("Thawed")).status === 200, {
        timeoutMs: 15_000,
        what: "writes to succeed once the primary answers again",
      });
      // The first write through is not the end of the recovery: statements abandoned at their deadlines while
      // the primary was frozen still drain from its connections, and on a loaded machine a read just after can
      // still meet its deadline (a prompt 503, as promised). Recovered means the read answers the write too.
      const displayName = await waitFor(
        async () => {
          const res = await me();
          if (res.status === 200) return UserSchema.parse(await res.json()).displayName;
          await expectProblem(res, 503, "service_unavailable");
          return undefined;
        },
        { timeoutMs: 15_000, what: "reads to answer once the primary answers again" },
      );
      expect(displayName).toBe("Thawed");
    } finally {
      await hung.close();
    }
  }, 60_000);
});
