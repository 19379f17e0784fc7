import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { upsertSpecies } from "../../src/modules/species/species.repo.ts";
import { SpeciesPageSchema } from "../../src/modules/species/species.schemas.ts";
import { ReadinessSchema } from "../../src/modules/system/system.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { testEnv } from "../helpers/env.ts";
import { type PgPairControl, pgPairFromControlFile } from "../helpers/servers/pg-pair.ts";

// These tests pause, lag and stop the shared test replica; each restores it before the next starts.
let pair: PgPairControl;
let t: TestApp;
beforeAll(async () => {
  pair = pgPairFromControlFile(testEnv.pgPairControl);
  // Rows are written here behind the API (no cache invalidation): these tests look at where reads go, so the
  // list cache is off (tests/http/species-cache-tags.test.ts covers it).
  t = await createTestApp({
    TRUST_PROXY_HEADER: "fly-client-ip",
    REPLICA_MAX_LAG_MS: "60000",
    SPECIES_LIST_CACHE_TTL_SECONDS: "0",
  });
});
afterEach(async () => {
  await pair.resumeReplay();
});
afterAll(() => t.close());

const care = {
  watering: "w",
  light: "l",
  temperature: "t",
  humidity: "h",
  soil: "s",
  fertilizing: "f",
  toxicity: "x",
};

/** Writes a species straight to the primary, as another service would: no read-after-write marker. */
async function insertOnPrimary() {
  const name = `Testus replicatus${crypto.randomUUID().slice(0, 8)}`;
  await upsertSpecies(t.deps.db.primary, [
    { scientificName: name, commonNames: [], family: "Testaceae", genus: "Testus", category: "weed", care },
  ]);
  return name;
}

async function search(name: string, clientIp: string) {
  const res = await t.request(`/v1/species?q=${encodeURIComponent(name)}`, {
    headers: { "fly-client-ip": clientIp },
  });
  expect(res.status).toBe(200);
  return SpeciesPageSchema.parse(await res.json()).data.map((s) => s.scientificName);
}

describe("reads and the replica", () => {
  test("a catalogue read is served by the replica", async () => {
    await pair.pauseReplay();
    const name = await insertOnPrimary();
    // The primary has the row; the paused replica does not, and the API answers without it.
    expect(await search(name, "198.51.100.1")).toEqual([]);
    await pair.resumeReplay();
    await waitFor(async () => (await search(name, "198.51.100.1")).length === 1, {
      what: "replica to replay",
    });
  });

  test("a client that has just written reads from the primary; other clients keep the replica", async () => {
    await pair.pauseReplay();
    const name = await insertOnPrimary();
    await t.deps.db.markWrite("ip:198.51.100.2");
    expect(await search(name, "198.51.100.2")).toEqual([name]);
    expect(await search(name, "198.51.100.3")).toEqual([]);
  });

  test("reads keep working while the replica is down, and readiness only degrades", async () => {
    const name = await insertOnPrimary();
    await pair.stopReplica();
    try {
      await readsSurviveReplicaOutage(name);
    } finally {
      await pair.startReplica();
    }
  });

  async function readsSurviveReplicaOutage(name: string) {
    const fallbacksBefore = (await t.deps.metrics.replicaFallbacks.get()).values.reduce(
      (n, v) => n + v.value,
      0,
    );
    expect(await search(name, "198.51.100.4")).toEqual([name]);
    expect(await search(name, "198.51.100.4")).toEqual([name]);
    const fallbacksAfter = (await t.deps.metrics.replicaFallbacks.get()).values.reduce(
      (n, v) => n + v.value,
      0,
    );
    expect(fallbacksAfter).toBeGreaterThan(fallbacksBefore);

    const ready = await t.request("/ready");
    expect(ready.status).toBe(200);
    const body = ReadinessSchema.parse(await ready.json());
    expect(body.status).toBe("degraded");
    expect(body.checks.replica.status).toBe("down");
    expect(body.checks.primary.status).toBe("up");
  }

  test("a replica lagging past the bound is skipped until it catches up", async () => {
    const lagging = await createTestApp({
      REPLICA_MAX_LAG_MS: "100",
      REPLICA_HEALTH_INTERVAL_MS: "50",
      SPECIES_LIST_CACHE_TTL_SECONDS: "0",
    });
    try {
      await pair.pauseReplay();
      const name = await insertOnPrimary();
      await waitFor(() => lagging.deps.db.monitor?.reason === "lagging", {
        what: "the monitor to see the lag",
      });
      const res = await lagging.request(`/v1/species?q=${encodeURIComponent(name)}`);
      expect(SpeciesPageSchema.parse(await res.json()).data.map((s) => s.scientificName)).toEqual([name]);
      await pair.resumeReplay();
      await waitFor(() => lagging.deps.db.monitor?.reason === "ok", { what: "the replica to catch up" });
    } finally {
      await lagging.close();
    }
  });
});
