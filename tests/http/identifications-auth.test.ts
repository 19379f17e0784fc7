import { afterAll, beforeAll, beforeEach } from "bun:test";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import type { TestUser } from "../helpers/auth.ts";
import {
  identifyEnv,
  mediaDir,
  postIdentification,
  removeDir,
  startSimulator,
  uploadForm,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { describeProtectedRoute } from "../helpers/protected-route-suite.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let app: TestApp;
let dir: string;
let photo: Uint8Array;

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  app = await createTestApp(identifyEnv(sim, dir));
  photo = await jpeg();
});
afterAll(async () => {
  await app.close();
  await sim.stop();
  await removeDir(dir);
});
beforeEach(() => sim.control.reset());

async function identificationOf(a: TestApp, owner: TestUser): Promise<string> {
  const res = await postIdentification(a, owner.headers, uploadForm([photo], { includeHealth: "false" }));
  return `/v1/identifications/${IdentificationSchema.parse(await res.json()).id}`;
}

describeProtectedRoute(() => app, "create an identification", {
  method: "POST",
  path: () => "/v1/identifications",
  scope: "identifications:write",
  init: () => ({ body: uploadForm([photo], { includeHealth: "false" }) }),
});

describeProtectedRoute(() => app, "list identifications", {
  method: "GET",
  path: () => "/v1/identifications",
  scope: "identifications:read",
});

describeProtectedRoute(() => app, "get an identification", {
  method: "GET",
  path: ({ app: a, caller }) => identificationOf(a, caller),
  scope: "identifications:read",
  foreignResource: identificationOf,
});

describeProtectedRoute(() => app, "delete an identification", {
  method: "DELETE",
  path: ({ app: a, caller }) => identificationOf(a, caller),
  scope: "identifications:write",
  foreignResource: identificationOf,
});
