/**
 * Direct uploads against a real S3 server (s3rver): the app PUTs straight to the bucket with the presigned
 * request and identifies from the upload id; photo URLs redirect to short presigned GETs of the bucket.
 * s3rver does not check signatures, so what S3 itself would refuse (a wrong size) is also checked at the claim.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { UploadTicketSchema } from "../../src/modules/uploads/uploads.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import { testEnv } from "../helpers/env.ts";
import { identificationRowsOf, identifyEnv, startSimulator } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { objectExists, s3StorageEnv } from "../helpers/s3-bucket.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let app: TestApp;
const s3 = () => testEnv.s3;
beforeAll(async () => {
  sim = startSimulator();
  app = await createTestApp(identifyEnv(sim, "/nonexistent", s3StorageEnv()));
});
afterAll(async () => {
  await app.close();
  await sim.stop();
});
beforeEach(() => sim.control.reset());

async function ticketFor(user: TestUser, bytes: Uint8Array, sha256?: string) {
  const res = await app.request(
    "/v1/uploads",
    jsonRequest("POST", { contentType: "image/jpeg", contentLength: bytes.byteLength, sha256 }, user.headers),
  );
  expect(res.status).toBe(201);
  return UploadTicketSchema.parse(await res.json());
}

const uploadRow = (id: string) =>
  app.deps.db.primary.selectFrom("uploads").select("id").where("id", "=", id).executeTakeFirst();

describe("direct uploads to an S3 bucket", () => {
  test("an app PUTs straight to the bucket with the presigned request and identifies from the upload id", async () => {
    const user = await registerUser(app);
    const bytes = await jpeg();
    const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
    const ticket = await ticketFor(user, bytes, sha256);
    const url = new URL(ticket.url);
    expect(url.origin).toBe(new URL(s3().endpoint).origin);
    expect(url.pathname).toBe(`/${s3().bucket}/uploads/${ticket.uploadId}`);
    // Type, length and checksum are signed as headers: S3 refuses a PUT that sends other values.
    const signed = url.searchParams.get("X-Amz-SignedHeaders")!.split(";");
    expect(signed).toEqual(
      expect.arrayContaining(["content-length", "content-type", "x-amz-checksum-sha256"]),
    );
    expect(ticket.headers).toEqual({
      "content-type": "image/jpeg",
      "content-length": String(bytes.byteLength),
      "x-amz-checksum-sha256": Buffer.from(sha256, "hex").toString("base64"),
    });

    const put = await fetch(ticket.url, { method: "PUT", headers: ticket.headers, body: bytes });
    expect(put.status).toBe(200);
    expect(await objectExists(`uploads/${ticket.uploadId}`)).toBe(true);

    const res = await app.request(
      "/v1/identifications",
      jsonRequest("POST", { uploadIds: [ticket.uploadId], includeHealth: false }, user.headers),
    );
    expect(res.status).toBe(201);
    const body = IdentificationSchema.parse(await res.json());
    const media = await app.deps.db.primary
      .selectFrom("media")
      .selectAll()
      .where("identification_id", "=", body.id)
      .executeTakeFirstOrThrow();
    expect(await objectExists(media.storage_key)).toBe(true);
    expect(await objectExists(`uploads/${ticket.uploadId}`)).toBe(false);

    // The photo URL is the API's signed one; it redirects to a short presigned GET of the bucket.
    const redirect = await app.request(body.images[0]!.url);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
    const location = new URL(redirect.headers.get("location")!);
    expect(location.pathname).toBe(`/${s3().bucket}/${media.storage_key}`);
    expect(Number(location.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(300);
    const image = await fetch(location);
    expect(image.status).toBe(200);
    expect(new Uint8Array(await image.arrayBuffer()).subarray(0, 3)).toEqual(
      new Uint8Array([0xff, 0xd8, 0xff]),
    );

    expect(
      (await app.request(`/v1/identifications/${body.id}`, { method: "DELETE", headers: user.headers }))
        .status,
    ).toBe(204);
    await expectProblem(await app.request(body.images[0]!.url), 404, "not_found");
  });

  test("DELETE /v1/uploads/{id} removes the bucket's object and the row, sent or not", async () => {
    const user = await registerUser(app);
    const bytes = await jpeg();
    const sent = await ticketFor(user, bytes);
    expect((await fetch(sent.url, { method: "PUT", headers: sent.headers, body: bytes })).status).toBe(200);
    const never = await ticketFor(user, bytes);
    for (const ticket of [sent, never]) {
      const res = await app.request(`/v1/uploads/${ticket.uploadId}`, {
        method: "DELETE",
        headers: user.headers,
      });
      expect(res.status).toBe(204);
      expect(await objectExists(`uploads/${ticket.uploadId}`)).toBe(false);
      expect(await uploadRow(ticket.uploadId)).toBeUndefined();
    }
  });

  test("an object larger than declared is refused at the claim and removed with its row", async () => {
    const user = await registerUser(app);
    const bytes = await jpeg();
    const ticket = await ticketFor(user, bytes);
    // s3rver does not check signatures (S3 would answer 403): send more than declared.
    const bigger = new Uint8Array([...bytes, ...new Uint8Array(1000)]);
    expect(
      (await fetch(ticket.url, { method: "PUT", headers: { "content-type": "image/jpeg" }, body: bigger }))
        .status,
    ).toBe(200);
    const res = await app.request(
      "/v1/identifications",
      jsonRequest("POST", { uploadIds: [ticket.uploadId] }, user.headers),
    );
    await expectProblem(res, 413, "payload_too_large");
    expect(await objectExists(`uploads/${ticket.uploadId}`)).toBe(false);
    expect(await uploadRow(ticket.uploadId)).toBeUndefined();
    expect(await identificationRowsOf(app, user.user.id)).toEqual([]);
    expect(sim.control.allCalls()).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 0 });
  });
});
