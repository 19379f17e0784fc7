import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import type { BlobStore } from "../../src/infra/storage/index.ts";
import { createLocalBlobStore } from "../../src/infra/storage/local.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import {
  filesUnder,
  identificationRowsOf,
  identifyEnv,
  mediaDir,
  postIdentification,
  removeDir,
  startSimulator,
  uploadForm,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

// A request id this file alone uses: the trigger below fails only that request's audit insert.
const DOOMED_REQUEST = `doomed-${crypto.randomUUID()}`;

let sim: ProviderSimulator;
const apps: TestApp[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  sim = startSimulator();
});
afterAll(async () => {
  const db = apps[0]?.deps.db.primary;
  if (db) {
    await sql`drop trigger if exists identification_test_fail on audit_log`.execute(db);
    await sql`drop function if exists identification_test_fail()`.execute(db);
  }
  await Promise.all(apps.map((a) => a.close()));
  await sim.stop();
  await Promise.all(dirs.map(removeDir));
});

async function appWith(storage?: (dir: string) => BlobStore) {
  const dir = await mediaDir();
  dirs.push(dir);
  const app = await createTestApp(identifyEnv(sim, dir), storage ? { storage: storage(dir) } : {});
  apps.push(app);
  return { app, dir, user: await registerUser(app) };
}

describe("a failure part way through leaves nothing half-stored", () => {
  test("a database failure after the rows were written rolls them back and removes the stored images", async () => {
    const { app, dir, user } = await appWith();
    const db = app.deps.db.primary;
    await sql`create or replace function identification_test_fail() returns trigger language plpgsql as $$
      begin
        if new.request_id = ${sql.lit(DOOMED_REQUEST)} then raise exception 'simulated failure inside the transaction'; end if;
        return new;
      end $$`.execute(db);
    await sql`create or replace trigger identification_test_fail before insert on audit_log for each row execute function identification_test_fail()`.execute(
      db,
    );

    const res = await postIdentification(app, user.headers, uploadForm([await jpeg(), await jpeg()]), {
      "x-request-id": DOOMED_REQUEST,
    });
    await expectProblem(res, 500, "internal_error");
    // The identification and media rows were inserted before the audit row failed: all rolled back.
    expect(await identificationRowsOf(app, user.user.id)).toHaveLength(0);
    const media = await db
      .selectFrom("media")
      .innerJoin("identifications", "identifications.id", "media.identification_id")
      .select("media.id")
      .where("identifications.user_id", "=", user.user.id)
      .execute();
    expect(media).toHaveLength(0);
    expect(await filesUnder(dir)).toEqual([]);
    expect(sim.control.calls("plant-id")).toBeGreaterThan(0);
  });

  test("a storage failure after one object was stored removes that object and answers 503 with Retry-After", async () => {
    let puts = 0;
    const { app, dir, user } = await appWith((root) => {
      const local = createLocalBlobStore({ rootDir: root, mediaBaseUrl: "/v1/media" });
      return {
        ...local,
        put: async (key, bytes, type) => {
          puts += 1;
          if (puts === 2) throw new Error("simulated storage outage");
          await local.put(key, bytes, type);
        },
      };
    });
    const res = await postIdentification(app, user.headers, uploadForm([await jpeg()]));
    await expectProblem(res, 503, "service_unavailable");
    expect(res.headers.get("retry-after")).toBe("5");
    expect(puts).toBe(2);
    expect(await filesUnder(dir)).toEqual([]);
    expect(await identificationRowsOf(app, user.user.id)).toHaveLength(0);
  });
});
