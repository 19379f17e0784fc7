import { expect } from "bun:test";
import {
  ExperimentSchema,
  type Model,
  ModelListSchema,
  ModelSchema,
} from "../../src/modules/models/models.schemas.ts";
import type { TestApp } from "../helpers/app.ts";
import { jsonRequest, type TestUser } from "../helpers/auth.ts";

/** The model's id: registered now, or found when it already is (tests share one database and its models). */
export async function modelId(
  app: TestApp,
  admin: TestUser,
  m: { provider: Model["provider"]; version: string; settings?: Model["settings"] },
): Promise<string> {
  const res = await app.request("/v1/admin/models", jsonRequest("POST", m, admin.headers));
  if (res.status === 201) return ModelSchema.parse(await res.json()).id;
  expect(res.status).toBe(409);
  const list = ModelListSchema.parse(
    await (await app.request("/v1/admin/models", { headers: admin.headers })).json(),
  );
  const found = list.data.find(
    (x) =>
      x.provider === m.provider &&
      x.version === m.version &&
      JSON.stringify(x.settings) === JSON.stringify(m.settings ?? {}),
  );
  expect(found).toBeDefined();
  return found!.id;
}

type VariantInput = {
  key: string;
  control?: boolean;
  weight: number;
  models: string[];
  shadowModels?: string[];
  merge?: "combined" | "first_answer";
};

/** Starts an experiment; the caller stops it (one runs at a time, for the whole shared database). */
export async function startExperiment(app: TestApp, admin: TestUser, variants: VariantInput[]) {
  const res = await app.request(
    "/v1/admin/experiments",
    jsonRequest("POST", { name: `test ${crypto.randomUUID()}`, variants }, admin.headers),
  );
  expect(res.status).toBe(201);
  return ExperimentSchema.parse(await res.json());
}

export async function stopExperiment(app: TestApp, admin: TestUser, id: string) {
  return app.request(`/v1/admin/experiments/${id}/stop`, { method: "POST", headers: admin.headers });
}
