/**
 * DELETE /v1/uploads/{id}: a user drops a photo before identifying with it. The upload's bytes and row go at once
 * and its place under UPLOADS_MAX_OUTSTANDING is free; an upload being claimed by an identification is not
 * removed under it; nobody else's upload can be touched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { UploadTicketSchema } from "../../src/modules/uploads/uploads.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { filesUnder, identifyEnv, mediaDir, removeDir, startSimulator } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { describeProtectedRoute } from "../helpers/protected-route-suite.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let app: TestApp;
let dir: string;

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  app = await createTestApp(identifyEnv(sim, dir, { UPLOADS_MAX_OUTSTANDING: "2" }));
});
afterAll(async () => {
  await app.close();
  await sim.stop();
  await removeDir(dir);
});

async function upload(user: TestUser, bytes?: Uint8Array) {
  const photo = bytes ?? (await jpeg());
  const res = await app.request(
    "/v1/uploads",
    jsonRequest("POST", { contentType: "image/jpeg", contentLength: photo.byteLength }, user.headers),
  );
  expect(res.status).toBe(201);
  const ticket = UploadTicketSchema.parse(await res.json());
  if (bytes) {
    const put = await app.request(ticket.url, {
      method: "PUT",
      headers: ticket.headers,
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    expect(put.status).toBe(204);
  }
  return ticket;
}

const remove = (user: TestUser, id: string) =>
  app.request(`/v1/uploads/${id}`, { method: "DELETE", headers: user.headers });

const uploadRow = (id: string) =>
  app.deps.db.primary.selectFrom("uploads").selectAll().where("id", "=", id).executeTakeFirst();

describe("DELETE /v1/uploads/{id}", () => {
  test("removes a received upload's bytes and row, and a second delete is 404", async () => {
    const user = await registerUser(app);
    const ticket = await upload(user, await jpeg());
    expect(await filesUnder(dir)).toContain(`uploads/${ticket.uploadId}`);

    const res = await remove(user, ticket.uploadId);
    expect(res.status).toBe(204);
    expect(await uploadRow(ticket.uploadId)).toBeUndefined();
    expect(await filesUnder(dir)).not.toContain(`uploads/${ticket.uploadId}`);
    await expectProblem(await remove(user, ticket.uploadId), 404, "not_found");
  });

  test("removes an upload whose bytes never came, and frees its place under the per-user cap", async () => {
    const user = await registerUser(app);
    const first = await upload(user);
    await upload(user);
    const full = await app.request(
      "/v1/uploads",
      jsonRequest("POST", { contentType: "image/jpeg", contentLength: 1_000 }, user.headers),
    );
    await expectProblem(full, 429, "upload_limit_reached");

    expect((await remove(user, first.uploadId)).status).toBe(204);
    await upload(user); // the freed place
  });

  test("an upload being claimed by an identification is kept (409), and a used one is gone (404)", async () => {
    const user = await registerUser(app);
    const ticket = await upload(user, await jpeg());
    // What an identification in progress holds: the claim, until its photos are stored.
    await app.deps.db.primary
      .updateTable("uploads")
      .set({ claimed_at: new Date() })
      .where("id", "=", ticket.uploadId)
      .execute();
    await expectProblem(await remove(user, ticket.uploadId), 409, "conflict");
    expect(await uploadRow(ticket.uploadId)).toBeDefined();
    expect(await filesUnder(dir)).toContain(`uploads/${ticket.uploadId}`);

    const used = await upload(user, await jpeg());
    const identified = await app.request(
      "/v1/identifications",
      jsonRequest("POST", { uploadIds: [used.uploadId] }, user.headers),
    );
    expect(identified.status).toBe(201);
    await expectProblem(await remove(user, used.uploadId), 404, "not_found");
  });

  test("another user's upload answers 404 and stays", async () => {
    const owner = await registerUser(app);
    const other = await registerUser(app);
    const ticket = await upload(owner, await jpeg());
    await expectProblem(await remove(other, ticket.uploadId), 404, "not_found");
    expect(await uploadRow(ticket.uploadId)).toBeDefined();
    expect(await filesUnder(dir)).toContain(`uploads/${ticket.uploadId}`);
  });

  test("a malformed id is a 400 problem naming the parameter", async () => {
    const user = await registerUser(app);
    const problem = await expectProblem(await remove(user, "not-an-id"), 400, "validation_failed");
    expect(problem.errors?.map((e) => e.path)).toEqual(["param.id"]);
  });
});

describeProtectedRoute(() => app, "DELETE /v1/uploads/{id}", {
  method: "DELETE",
  path: async ({ caller }) => `/v1/uploads/${(await upload(caller)).uploadId}`,
  scope: "identifications:write",
  foreignResource: async (_app, owner) => `/v1/uploads/${(await upload(owner)).uploadId}`,
});
