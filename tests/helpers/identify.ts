import { afterAll, beforeAll, beforeEach } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import speciesSeed from "../../src/db/seed/species.json" with { type: "json" };
import {
  type CatalogueSpecies,
  DEFAULT_PLANT_ID_KEY,
  DEFAULT_PLANTNET_KEY,
  type ProviderSimulator,
  startProviderSimulator,
} from "../simulators/provider-simulator.ts";
import { createTestApp, type TestApp } from "./app.ts";

/** The species the database is seeded with, so the simulator's suggestions link to our catalogue. */
export const seedCatalogue: CatalogueSpecies[] = (speciesSeed as CatalogueSpecies[]).map(
  ({ scientificName, commonNames, family, genus }) => ({ scientificName, commonNames, family, genus }),
);

export function startSimulator(): ProviderSimulator {
  return startProviderSimulator({ catalogue: seedCatalogue });
}

/** A fresh media directory per app, removed by the caller. */
export function mediaDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "plantc-media-"));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every file under `dir` (relative paths): what the local driver stored. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/** The object keys (image and thumbnail) an identification's media rows point at. */
export async function objectKeysOf(app: TestApp, identificationId: string): Promise<string[]> {
  const rows = await app.deps.db.primary
    .selectFrom("media")
    .select(["storage_key", "thumbnail_key"])
    .where("identification_id", "=", identificationId)
    .execute();
  return rows.flatMap((r) => [r.storage_key, r.thumbnail_key]);
}

/** Environment for an app whose providers are the simulator and whose images go to `dir`. */
export function identifyEnv(
  sim: ProviderSimulator,
  dir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PLANT_ID_API_KEY: DEFAULT_PLANT_ID_KEY,
    PLANT_ID_BASE_URL: sim.plantIdBaseUrl,
    PLANTNET_API_KEY: DEFAULT_PLANTNET_KEY,
    PLANTNET_BASE_URL: sim.plantnetBaseUrl,
    PLANT_ID_TIMEOUT_MS: "3000",
    PLANT_ID_HEALTH_TIMEOUT_MS: "3000",
    PLANTNET_TIMEOUT_MS: "3000",
    // As long as the calls' own deadlines: a loaded test machine must not turn slow answers into 503s. The tests
    // of the request-path wait set it themselves.
    IDENTIFY_SYNC_WAIT_MS: "3000",
    STORAGE_DRIVER: "local",
    MEDIA_DIR: dir,
    ...extra,
  };
}

export type UploadFile = Uint8Array | { bytes: Uint8Array; type?: string; name?: string };

/** The multipart body of POST /v1/identifications. */
export function uploadForm(files: UploadFile[], fields: Record<string, string | string[]> = {}): FormData {
  const form = new FormData();
  files.forEach((file, i) => {
    const f = file instanceof Uint8Array ? { bytes: file } : file;
    form.append(
      "images",
      new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.type ?? "image/jpeg" }),
      f.name ?? `photo-${i + 1}.jpg`,
    );
  });
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) form.append(name, v);
  }
  return form;
}

export function postIdentification(
  app: TestApp,
  headers: Record<string, string>,
  body: FormData | RequestInit["body"],
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  return app.request("/v1/identifications", {
    method: "POST",
    headers: { ...headers, ...extraHeaders },
    body,
  });
}

/** Rows the user owns, deleted or not: refusals must leave none. */
export async function identificationRowsOf(app: TestApp, userId: string) {
  return app.deps.db.primary
    .selectFrom("identifications")
    .selectAll()
    .where("user_id", "=", userId)
    .execute();
}

export type IdentifyFixture = {
  readonly sim: ProviderSimulator;
  readonly app: TestApp;
  readonly dir: string;
};

/**
 * The usual setup of an identification test file: a simulator, a media directory and an app wired to both,
 * made before the file's tests and removed after them; the simulator is reset before each test.
 * `beforeClose` runs after the file's tests while the app is still open (e.g. to remove its queue keys).
 */
export function useIdentifyApp(
  env: Record<string, string> = {},
  opts: { beforeClose?: (app: TestApp) => Promise<void> } = {},
): IdentifyFixture {
  let sim: ProviderSimulator | undefined;
  let app: TestApp | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    sim = startSimulator();
    dir = await mediaDir();
    app = await createTestApp(identifyEnv(sim, dir, env));
  });
  afterAll(async () => {
    if (app) await opts.beforeClose?.(app);
    await app?.close();
    await sim?.stop();
    if (dir) await removeDir(dir);
  });
  beforeEach(() => sim?.control.reset());
  return {
    get sim() {
      return sim!;
    },
    get app() {
      return app!;
    },
    get dir() {
      return dir!;
    },
  };
}
