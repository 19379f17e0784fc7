import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { upsertSpecies } from "../../src/modules/species/species.repo.ts";
import { waitFor } from "../helpers/app.ts";
import { testEnv } from "../helpers/env.ts";
import { type PgPairControl, pgPairFromControlFile } from "../helpers/servers/pg-pair.ts";
import { createTestDeps, metricValue } from "./metric-value.ts";

// The lag test pauses replay on the shared test replica; it is resumed after every test.
let pair: PgPairControl;
let t: Awaited<ReturnType<typeof createTestDeps>>;
beforeAll(async () => {
  pair = pgPairFromControlFile(testEnv.pgPairControl);
  t = await createTestDeps({ REPLICA_MAX_LAG_MS: "60000" });
});
afterEach(() => pair.resumeReplay());
afterAll(() => t.close());

const registry = () => t.deps.metrics.registry;
const care = {
  watering: "w",
  light: "l",
  temperature: "t",
  humidity: "h",
  soil: "s",
  fertilizing: "f",
  toxicity: "x",
};

describe("database metrics", () => {
  test("a query on the primary and one on the replica are each timed under their target", async () => {
    const primaryBefore = await metricValue(registry(), "db_query_duration_seconds_count", {
      target: "primary",
    });
    const replicaBefore = await metricValue(registry(), "db_query_duration_seconds_count", {
      target: "replica",
    });

    const one = await sql<{ one: number }>`select 1 as one`.execute(t.deps.db.primary);
    expect(one.rows).toEqual([{ one: 1 }]);
    expect(await metricValue(registry(), "db_query_duration_seconds_count", { target: "primary" })).toBe(
      primaryBefore + 1,
    );
    expect(await metricValue(registry(), "db_query_duration_seconds_count", { target: "replica" })).toBe(
      replicaBefore,
    );

    const sumBefore = await metricValue(registry(), "db_query_duration_seconds_sum", { target: "replica" });
    await sql`select pg_sleep(0.02)`.execute(t.deps.db.replica!);
    expect(await metricValue(registry(), "db_query_duration_seconds_count", { target: "replica" })).toBe(
      replicaBefore + 1,
    );
    // The 20 ms sleep shows in the observed time: the query itself is what is timed.
    const sumAfter = await metricValue(registry(), "db_query_duration_seconds_sum", { target: "replica" });
    expect(sumAfter - sumBefore).toBeGreaterThanOrEqual(0.02);
  });

  test("a failing query is timed too", async () => {
    const before = await metricValue(registry(), "db_query_duration_seconds_count", { target: "primary" });
    const failure = await sql`select * from no_such_table`.execute(t.deps.db.primary).catch((e) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(await metricValue(registry(), "db_query_duration_seconds_count", { target: "primary" })).toBe(
      before + 1,
    );
  });

  test("db_replica_lag_seconds rises while the replica does not replay, and the bound is exported", async () => {
    expect(await metricValue(registry(), "db_replica_lag_bound_seconds")).toBe(60);
    await pair.pauseReplay();
    const name = `Lagus metricus${crypto.randomUUID().slice(0, 8)}`;
    await upsertSpecies(t.deps.db.primary, [
      { scientificName: name, commonNames: [], family: "Testaceae", genus: "Lagus", category: "weed", care },
    ]);
    await waitFor(async () => (await metricValue(registry(), "db_replica_lag_seconds")) > 0, {
      what: "the monitor to report lag",
    });
    await pair.resumeReplay();
    await waitFor(async () => (await metricValue(registry(), "db_replica_lag_seconds")) === 0, {
      what: "the lag to clear after replay resumes",
    });
  });

  test("a read that cannot use the replica counts in db_replica_fallbacks_total", async () => {
    const down = await createTestDeps({ DATABASE_REPLICA_URL: "postgres://postgres@127.0.0.1:1/none" });
    try {
      const before = await metricValue(down.deps.metrics.registry, "db_replica_fallbacks_total");
      const rows = await down.deps.db.read(undefined, (db) =>
        db.selectFrom("species").select("id").limit(1).execute(),
      );
      expect(rows).toHaveLength(1);
      expect(await metricValue(down.deps.metrics.registry, "db_replica_fallbacks_total")).toBe(before + 1);
    } finally {
      await down.close();
    }
  });
});
