/**
 * The local fleet (scripts/fleet): two API instances and one worker per lane in production configuration behind
 * haproxy, sharing PostgreSQL primary + replica, Redis and S3. What a client must not notice: which instance
 * answered, or that one of them restarted.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { type Fleet, startFleet } from "../../scripts/fleet/fleet.ts";
import { ProblemSchema } from "../../src/http/openapi.ts";
import { SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import {
  type Identification,
  IdentificationPageSchema,
  IdentificationSchema,
} from "../../src/modules/identifications/identifications.schemas.ts";
import { NotificationPageSchema } from "../../src/modules/notifications/notifications.schemas.ts";
import { ProviderStatusListSchema } from "../../src/modules/providers/providers.schemas.ts";
import { SpeciesPageSchema } from "../../src/modules/species/species.schemas.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { waitFor } from "../helpers/app.ts";
import { uploadForm } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";

const RATE_LIMIT = 40;
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({
    drainDelayMs: 3_000,
    env: {
      RATE_LIMIT_DEFAULT: `${RATE_LIMIT}/1m`,
      BREAKER_CONSECUTIVE_FAILURES: "2",
      LOG_LEVEL: "warn",
      // As long as the provider deadline: on a loaded machine a 1.2 s wait turns slow answers into 503s; the
      // wait is tested in tests/http/identifications-providers.test.ts.
      IDENTIFY_SYNC_WAIT_MS: "6000",
    },
  });
}, 180_000);
afterAll(async () => {
  await fleet?.stop();
}, 60_000);

let ipSeq = 0;
/** Each simulated client has its own address (haproxy keeps a Fly-Client-IP the client brings, see haproxy.ts). */
const newIp = () => {
  ipSeq += 1;
  return `198.18.${(ipSeq >> 8) & 255}.${ipSeq & 255}`;
};
const api = (i: number) => fleet.apis[i]?.url as string;

async function register(url: string) {
  const ip = newIp();
  const email = `fleet-${crypto.randomUUID()}@example.com`;
  const password = `pw-${crypto.randomUUID()}`;
  const post = (path: string, body: object) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "fly-client-ip": ip },
      body: JSON.stringify(body),
    });
  expect((await post("/v1/auth/register", { email, password, displayName: "Fleet" })).status).toBe(202);
  // As following the e-mailed confirmation link would: these users identify more than the unconfirmed allowance.
  const sql = postgres(fleet.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`update users set email_verified_at = now() where email = ${email}`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  const res = await post("/v1/auth/login", { email, password });
  expect(res.status).toBe(200);
  const session = SessionSchema.parse(await res.json());
  return {
    session,
    email,
    password,
    ip,
    headers: { authorization: `Bearer ${session.accessToken}`, "fly-client-ip": ip },
  };
}

async function identify(
  url: string,
  headers: Record<string, string>,
  image: Uint8Array,
  opts: { prefer?: string; includeHealth?: boolean } = {},
) {
  return fetch(`${url}/v1/identifications`, {
    method: "POST",
    headers: opts.prefer ? { ...headers, prefer: opts.prefer } : headers,
    body: uploadForm([image], opts.includeHealth ? { includeHealth: "true" } : {}),
  });
}

describe("a fleet of two API instances behind haproxy", () => {
  test("every operation works through either instance: the session, the history and background work are shared", async () => {
    const user = await register(api(0));
    const me = await fetch(`${api(1)}/v1/me`, { headers: user.headers });
    expect(me.status).toBe(200);
    expect(UserSchema.parse(await me.json()).id).toBe(user.session.user.id);

    const refreshed = await fetch(`${api(1)}/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json", "fly-client-ip": user.ip },
      body: JSON.stringify({ refreshToken: user.session.refreshToken }),
    });
    expect(refreshed.status).toBe(200);
    const login = await fetch(`${api(0)}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "fly-client-ip": user.ip },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    expect(login.status).toBe(200);

    // Written through one instance, read at once through the other (read-after-write is fleet-wide).
    const created = await identify(api(1), user.headers, await jpeg());
    expect(created.status).toBe(201);
    const { id } = IdentificationSchema.parse(await created.json());
    const read = await fetch(`${api(0)}/v1/identifications/${id}`, { headers: user.headers });
    expect(read.status).toBe(200);
    const history = IdentificationPageSchema.parse(
      await (await fetch(`${api(1)}/v1/identifications`, { headers: user.headers })).json(),
    );
    expect(history.data.map((i) => i.id)).toContain(id);

    // Accepted by one instance, run by the default-lane worker, seen and notified through the other.
    const queued = await identify(api(0), user.headers, await jpeg(), { prefer: "respond-async" });
    expect(queued.status).toBe(202);
    const asyncId = IdentificationSchema.parse(await queued.json()).id;
    await waitFor(
      async () => {
        const res = await fetch(`${api(1)}/v1/identifications/${asyncId}`, { headers: user.headers });
        return IdentificationSchema.parse(await res.json()).status === "completed";
      },
      { timeoutMs: 30_000, what: "the background identification" },
    );
    await waitFor(
      async () => {
        const res = await fetch(`${api(0)}/v1/notifications`, { headers: user.headers });
        return NotificationPageSchema.parse(await res.json()).data.some(
          (n) => n.kind === "identification.completed" && n.data.identificationId === asyncId,
        );
      },
      { timeoutMs: 15_000, what: "the notification" },
    );

    const species = await fetch(`${fleet.url}/v1/species?limit=3`, { headers: { "fly-client-ip": newIp() } });
    expect(SpeciesPageSchema.parse(await species.json()).data).toHaveLength(3);
  }, 90_000);

  test("a breaker opened by failures on one instance is honoured by the other, which does not call the provider", async () => {
    const user = await register(api(0));
    fleet.sim.control.failWith("plant-id-health", 500);
    try {
      const stateOn = async (url: string) => {
        const res = await fetch(`${url}/v1/providers`, { headers: user.headers });
        return ProviderStatusListSchema.parse(await res.json()).data.find((p) => p.name === "plant-id-health")
          ?.state;
      };
      for (let i = 0; i < 10 && (await stateOn(api(0))) !== "open"; i++) {
        const res = await identify(api(0), user.headers, await jpeg(), { includeHealth: true });
        expect(res.status).toBe(201); // the identification itself still succeeds without the health assessment
      }
      expect(await stateOn(api(0))).toBe("open");
      await waitFor(async () => (await stateOn(api(1))) === "open", {
        timeoutMs: 10_000,
        what: "api2 to see it",
      });

      const callsBefore = fleet.sim.control.allCalls()["plant-id-health"];
      const res = await identify(api(1), user.headers, await jpeg(), { includeHealth: true });
      expect(res.status).toBe(201);
      const body: Identification = IdentificationSchema.parse(await res.json());
      expect(body.providers.plantIdHealth?.status).toBe("circuit_open");
      expect(fleet.sim.control.allCalls()["plant-id-health"]).toBe(callsBefore);
    } finally {
      fleet.sim.control.reset();
    }
  }, 60_000);

  test("a rate limit holds for the fleet: requests alternating between instances share one budget", async () => {
    const ip = newIp();
    const get = (i: number) =>
      fetch(`${api(i % 2)}/v1/species?limit=1`, { headers: { "fly-client-ip": ip } });
    for (let i = 0; i < RATE_LIMIT; i++) expect((await get(i)).status).toBe(200);
    const over = await get(RATE_LIMIT);
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(ProblemSchema.parse(await over.json()).code).toBe("rate_limited");
    expect((await get(RATE_LIMIT + 1)).status).toBe(429);
  }, 60_000);

  test("the same photo sent to both instances at once reaches each provider once (single flight across the fleet)", async () => {
    const [a, b] = await Promise.all([register(api(0)), register(api(1))]);
    const photo = await jpeg();
    const before = fleet.sim.control.allCalls();
    fleet.sim.control.setLatency("plant-id", 1_500);
    try {
      const [ra, rb] = await Promise.all([
        identify(api(0), a.headers, photo),
        identify(api(1), b.headers, photo),
      ]);
      expect([ra.status, rb.status]).toEqual([201, 201]);
      const [ia, ib] = [
        IdentificationSchema.parse(await ra.json()),
        IdentificationSchema.parse(await rb.json()),
      ];
      expect(ia.suggestions[0]?.scientificName).toBe(ib.suggestions[0]?.scientificName as string);
      const after = fleet.sim.control.allCalls();
      expect(after["plant-id"] - before["plant-id"]).toBe(1);
      expect(after.plantnet - before.plantnet).toBe(1);
    } finally {
      fleet.sim.control.reset();
    }
  }, 60_000);

  test("a rolling restart of both API instances under load loses no request (drain + haproxy's /health check)", async () => {
    const outcomes = { ok: 0, failed: [] as string[] };
    let running = true;
    const loop = async (n: number) => {
      while (running) {
        // Each request from a new client address: the per-client limit (40/min here) must not be what fails.
        const path = n % 2 === 0 ? "/v1/species?limit=5" : "/v1/species?limit=2&category=tree";
        const headers = { "fly-client-ip": newIp() };
        try {
          const res = await fetch(`${fleet.url}${path}`, { headers });
          await res.arrayBuffer();
          if (res.status === 200) outcomes.ok += 1;
          else outcomes.failed.push(`${path} ${res.status}`);
        } catch (err) {
          outcomes.failed.push(`${path} ${(err as Error).message}`);
        }
      }
    };
    const loops = Array.from({ length: 6 }, (_, n) => loop(n));
    try {
      await waitFor(() => outcomes.ok > 20, { timeoutMs: 15_000, what: "load to flow" });
      const oldPids = fleet.apis.map((a) => a.process.pid);
      for (const i of [0, 1]) {
        const before = outcomes.ok;
        await fleet.restartApi(i);
        // traffic went on while this instance was away
        expect(outcomes.ok).toBeGreaterThan(before);
      }
      expect(fleet.apis.map((a) => a.process.pid)).not.toEqual(oldPids);
      const served = outcomes.ok;
      await waitFor(() => outcomes.ok > served + 20, {
        timeoutMs: 15_000,
        what: "load through the new instances",
      });
    } finally {
      running = false;
      await Promise.all(loops);
    }
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.ok).toBeGreaterThan(100);
  }, 240_000);
});
