/**
 * Direct uploads with the local store (issue #13): the API's signed PUT enforces what a presigned S3 PUT would,
 * identifications claim uploads by id with the multipart checks (nothing kept of a refused upload), and photo
 * URLs are signed, private, expiring and dead at once after deletion.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import sharp from "sharp";
import { systemClock } from "../../src/infra/clock.ts";
import { BatchSchema } from "../../src/modules/identification-batches/batches.schemas.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { UploadTicketSchema } from "../../src/modules/uploads/uploads.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { jsonRequest, registerUser, type TestUser } from "../helpers/auth.ts";
import {
  filesUnder,
  identificationRowsOf,
  identifyEnv,
  mediaDir,
  removeDir,
  startSimulator,
} from "../helpers/identify.ts";
import { jpeg, jpegWithGps, png } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { metricValue } from "../observability/metric-value.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let app: TestApp;
let dir: string;
/** Added to the real time: lets a test jump past an expiry without sleeping (tokens stay valid for minutes). */
let skewMs = 0;

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  app = await createTestApp(
    identifyEnv(sim, dir, {
      MEDIA_URL_TTL_SECONDS: "60",
      UPLOAD_URL_TTL_SECONDS: "60",
      UPLOADS_MAX_OUTSTANDING: "3",
      IMAGE_MAX_PIXELS: "1000000",
      UPLOAD_MAX_REQUEST_BYTES: String(20 * 1024 * 1024),
    }),
    { clock: { ...systemClock, now: () => Date.now() + skewMs } },
  );
});
afterAll(async () => {
  await app.close();
  await sim.stop();
  await removeDir(dir);
});
beforeEach(() => {
  skewMs = 0;
  sim.control.reset();
});

async function requestUpload(user: TestUser, body: Record<string, unknown>) {
  return app.request("/v1/uploads", jsonRequest("POST", body, user.headers));
}

async function ticketFor(user: TestUser, bytes: Uint8Array, contentType = "image/jpeg", sha256?: string) {
  const res = await requestUpload(user, { contentType, contentLength: bytes.byteLength, sha256 });
  expect(res.status).toBe(201);
  return UploadTicketSchema.parse(await res.json());
}

/** What an app does with a ticket: PUT the bytes to its URL with its headers. */
function putBytes(ticket: { url: string; headers: Record<string, string> }, bytes: Uint8Array, headers = {}) {
  return app.request(ticket.url, {
    method: "PUT",
    headers: { ...ticket.headers, ...headers },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
}

function identifyFrom(user: TestUser, uploadIds: string[], extra: Record<string, unknown> = {}) {
  return app.request("/v1/identifications", jsonRequest("POST", { uploadIds, ...extra }, user.headers));
}

async function uploadRow(id: string) {
  return app.deps.db.primary.selectFrom("uploads").selectAll().where("id", "=", id).executeTakeFirst();
}

describe("direct uploads with the local store", () => {
  test("an app uploads to the signed URL and identifies from the upload id; the upload is then gone", async () => {
    const user = await registerUser(app);
    const bytes = await jpegWithGps();
    const ticket = await ticketFor(user, bytes);
    expect(ticket.method).toBe("PUT");
    expect(ticket.url).toStartWith(`http://localhost/v1/uploads/${ticket.uploadId}?expires=`);
    expect(ticket.headers).toEqual({
      "content-type": "image/jpeg",
      "content-length": String(bytes.byteLength),
    });
    expect((await putBytes(ticket, bytes)).status).toBe(204);
    expect(await filesUnder(dir)).toContain(`uploads/${ticket.uploadId}`);

    const res = await identifyFrom(user, [ticket.uploadId], { organs: ["leaf"], includeHealth: false });
    expect(res.status).toBe(201);
    const body = IdentificationSchema.parse(await res.json());
    expect(body.images).toHaveLength(1);
    // Claimed: stored through the photo pipeline (stripped), the upload's row and object removed.
    expect(await uploadRow(ticket.uploadId)).toBeUndefined();
    expect(await filesUnder(dir)).not.toContain(`uploads/${ticket.uploadId}`);
    const image = await app.request(body.images[0]!.url);
    expect(image.status).toBe(200);
    const meta = await sharp(new Uint8Array(await image.arrayBuffer())).metadata();
    expect(meta.exif).toBeUndefined();
    // Used once: a second identification from the same upload is refused.
    await expectProblem(await identifyFrom(user, [ticket.uploadId]), 422, "upload_unavailable");
  });

  test("a refused upload gets the multipart codes and leaves nothing behind, before any provider call", async () => {
    const user = await registerUser(app);
    const cases: { bytes: Uint8Array; declared: string; status: number; code: string }[] = [
      // Declared PNG, is a JPEG: judged by content.
      { bytes: await jpeg(), declared: "image/png", status: 415, code: "unsupported_media_type" },
      // Not an image at all.
      {
        bytes: new TextEncoder().encode("%PDF-1.7 not a photo"),
        declared: "image/jpeg",
        status: 415,
        code: "unsupported_media_type",
      },
      // JPEG magic bytes, then nothing that decodes.
      {
        bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...new Array(200).fill(7)]),
        declared: "image/jpeg",
        status: 400,
        code: "invalid_image",
      },
      // Over IMAGE_MAX_PIXELS (1 MP here).
      {
        bytes: await png({ width: 1200, height: 1000 }),
        declared: "image/png",
        status: 400,
        code: "image_too_many_pixels",
      },
    ];
    const failures = (code: string) =>
      metricValue(app.deps.metrics.registry, "upload_verification_failures_total", { code });
    const before = await failures("unsupported_media_type");
    for (const c of cases) {
      const ticket = await ticketFor(user, c.bytes, c.declared);
      expect((await putBytes(ticket, c.bytes)).status).toBe(204);
      await expectProblem(await identifyFrom(user, [ticket.uploadId]), c.status, c.code);
      expect(await uploadRow(ticket.uploadId)).toBeUndefined();
      expect(await filesUnder(dir)).not.toContain(`uploads/${ticket.uploadId}`);
    }
    expect(await identificationRowsOf(app, user.user.id)).toEqual([]);
    expect(sim.control.allCalls()).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 0 });
    expect(await failures("unsupported_media_type")).toBe(before + 2);
  });

  test("the signed PUT accepts only the declared type and size, and refuses a tampered or expired URL", async () => {
    const user = await registerUser(app);
    const bytes = await jpeg();
    const ticket = await ticketFor(user, bytes);
    await expectProblem(
      await putBytes(ticket, bytes, { "content-type": "image/png" }),
      415,
      "unsupported_media_type",
    );
    const longer = new Uint8Array([...bytes, 1, 2, 3]);
    await expectProblem(
      await putBytes(ticket, longer, { "content-length": String(longer.byteLength) }),
      413,
      "payload_too_large",
    );
    const shorter = bytes.slice(0, 100);
    await expectProblem(
      await putBytes(ticket, shorter, { "content-length": "100" }),
      400,
      "validation_failed",
    );
    const tampered = {
      ...ticket,
      url: ticket.url.replace(/expires=(\d+)/, (_, e) => `expires=${Number(e) + 3600}`),
    };
    await expectProblem(await putBytes(tampered, bytes), 403, "invalid_link_signature");
    const otherUpload = { ...ticket, url: ticket.url.replace(ticket.uploadId, crypto.randomUUID()) };
    await expectProblem(await putBytes(otherUpload, bytes), 403, "invalid_link_signature");
    // Nothing was stored by the refused PUTs: claiming it says it was never received (and keeps it).
    await expectProblem(await identifyFrom(user, [ticket.uploadId]), 409, "upload_incomplete");
    expect(await uploadRow(ticket.uploadId)).toBeDefined();
    skewMs = 61_000;
    await expectProblem(await putBytes(ticket, bytes), 410, "link_expired");
    // Its URL expired: the bytes can never arrive, so the claim refuses it for good (nothing kept).
    await expectProblem(await identifyFrom(user, [ticket.uploadId]), 409, "upload_incomplete");
    expect(await uploadRow(ticket.uploadId)).toBeUndefined();
  });

  test("a chunked body longer than declared is refused with 413 while it streams", async () => {
    const user = await registerUser(app);
    const ticket = await ticketFor(user, new Uint8Array(1000).fill(1));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 64 * 1024) return controller.close();
        sent += 4096;
        controller.enqueue(new Uint8Array(4096).fill(1));
      },
    });
    const res = await app.request(ticket.url, {
      method: "PUT",
      headers: { "content-type": "image/jpeg" },
      body,
      duplex: "half",
    } as RequestInit);
    await expectProblem(res, 413, "payload_too_large");
  });

  test("a declared SHA-256 is enforced by the PUT", async () => {
    const user = await registerUser(app);
    const bytes = await jpeg();
    const wrong = new Bun.CryptoHasher("sha256").update("something else").digest("hex");
    const ticket = await ticketFor(user, bytes, "image/jpeg", wrong);
    expect(ticket.headers["x-amz-checksum-sha256"]).toBe(Buffer.from(wrong, "hex").toString("base64"));
    await expectProblem(await putBytes(ticket, bytes), 422, "upload_checksum_mismatch");
  });

  test("uploads are per user, size-limited and capped while unclaimed", async () => {
    const owner = await registerUser(app);
    const other = await registerUser(app);
    const bytes = await jpeg();
    const ticket = await ticketFor(owner, bytes);
    expect((await putBytes(ticket, bytes)).status).toBe(204);
    await expectProblem(await identifyFrom(other, [ticket.uploadId]), 422, "upload_unavailable");
    expect(await uploadRow(ticket.uploadId)).toMatchObject({ claimed_at: null });
    await expectProblem(
      await requestUpload(owner, { contentType: "image/jpeg", contentLength: 11 * 1024 * 1024 }),
      413,
      "payload_too_large",
    );
    await ticketFor(owner, bytes);
    await ticketFor(owner, bytes);
    const capped = await requestUpload(owner, { contentType: "image/jpeg", contentLength: 10 });
    await expectProblem(capped, 429, "upload_limit_reached");
    expect(capped.headers.get("retry-after")).toBe("60");
  });
});

describe("the typed operation createIdentificationFromUploads", () => {
  test("POST /v1/identifications/from-uploads identifies from upload ids and spends the same allowance as POST /v1/identifications", async () => {
    const user = await registerUser(app);
    const remaining = (res: Response) => Number(/;r=(\d+)/.exec(res.headers.get("ratelimit") ?? "")?.[1]);

    const firstBytes = await jpeg();
    const first = await ticketFor(user, firstBytes);
    expect((await putBytes(first, firstBytes)).status).toBe(204);
    const viaCreate = await identifyFrom(user, [first.uploadId], { includeHealth: false });
    expect(viaCreate.status).toBe(201);

    const second = await ticketFor(user, await jpeg());
    const bytes = await jpeg();
    const ticket = await ticketFor(user, bytes);
    expect((await putBytes(ticket, bytes)).status).toBe(204);
    const res = await app.request(
      "/v1/identifications/from-uploads",
      jsonRequest("POST", { uploadIds: [ticket.uploadId], includeHealth: false }, user.headers),
    );
    expect(res.status).toBe(201);
    const body = IdentificationSchema.parse(await res.json());
    expect(res.headers.get("location")).toEndWith(`/v1/identifications/${body.id}`);
    expect(body.images).toHaveLength(1);
    expect(await uploadRow(ticket.uploadId)).toBeUndefined();
    // One allowance for both ways in: the second call left one identification fewer.
    expect(remaining(res)).toBe(remaining(viaCreate) - 1);

    // Its body is validated by its contract; the unused ticket stays the user's.
    await expectProblem(
      await app.request(
        "/v1/identifications/from-uploads",
        jsonRequest("POST", { uploadIds: ["not-a-uuid"] }, user.headers),
      ),
      400,
      "validation_failed",
    );
    expect((await uploadRow(second.uploadId))?.id).toBe(second.uploadId);
  });
});

describe("the services, as another transport (GraphQL) calls them", () => {
  test("identifications take upload ids as plain input, and refusals are AppErrors with the same codes", async () => {
    const user = await registerUser(app);
    const caller = {
      userId: user.user.id,
      actor: { kind: "user" as const, userId: user.user.id },
      clientKey: `user:${user.user.id}`,
    };
    const bytes = await jpeg();
    const ticket = await app.services.uploads.create(user.user.id, {
      contentType: "image/jpeg",
      contentLength: bytes.byteLength,
    });
    expect((await putBytes(ticket, bytes)).status).toBe(204);
    const { identification } = await app.services.identifications.create(caller, {
      uploadIds: [ticket.uploadId],
    });
    expect(identification.images).toHaveLength(1);
    expect(await uploadRow(ticket.uploadId)).toBeUndefined();
    const refused = app.services.identifications.create(caller, { uploadIds: [ticket.uploadId] });
    await expect(refused).rejects.toMatchObject({ name: "AppError", code: "upload_unavailable" });
  });
});

describe("request size", () => {
  test("uploads declared larger together than a multipart request may be are refused (413) and kept", async () => {
    const user = await registerUser(app);
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const res = await requestUpload(user, { contentType: "image/jpeg", contentLength: 8 * 1024 * 1024 });
      ids.push(UploadTicketSchema.parse(await res.json()).uploadId);
    }
    await expectProblem(await identifyFrom(user, ids), 413, "payload_too_large");
    for (const id of ids) expect(await uploadRow(id)).toMatchObject({ claimed_at: null });
  });
});

describe("background identifications from uploads", () => {
  test("with Prefer: respond-async the upload is claimed, stored and queued (202), then removed", async () => {
    const user = await registerUser(app);
    const bytes = await jpeg();
    const ticket = await ticketFor(user, bytes);
    await putBytes(ticket, bytes);
    const res = await app.request(
      "/v1/identifications",
      jsonRequest("POST", { uploadIds: [ticket.uploadId] }, { ...user.headers, prefer: "respond-async" }),
    );
    expect(res.status).toBe(202);
    const accepted = IdentificationSchema.parse(await res.json());
    expect(accepted.images).toHaveLength(1);
    expect(await uploadRow(ticket.uploadId)).toBeUndefined();
    expect(await filesUnder(dir)).not.toContain(`uploads/${ticket.uploadId}`);
  });
});

describe("batches from uploads", () => {
  test("a batch accepts upload ids: every photo is checked and stored, and the uploads are then gone", async () => {
    const user = await registerUser(app);
    const tickets = [];
    for (const bytes of [await jpeg(), await png()]) {
      const ticket = await ticketFor(user, bytes, bytes[0] === 0xff ? "image/jpeg" : "image/png");
      expect((await putBytes(ticket, bytes)).status).toBe(204);
      tickets.push(ticket);
    }
    const uploadIds = tickets.map((t) => t.uploadId);
    const res = await app.request(
      "/v1/identification-batches",
      jsonRequest("POST", { uploadIds, organs: ["leaf", "flower"] }, user.headers),
    );
    expect(res.status).toBe(202);
    const batch = BatchSchema.parse(await res.json());
    expect(batch.total).toBe(2);
    for (const id of uploadIds) expect(await uploadRow(id)).toBeUndefined();
    expect(
      (await filesUnder(dir)).filter(
        (f) => f.startsWith("uploads/") && uploadIds.some((id) => f.endsWith(id)),
      ),
    ).toEqual([]);
    const media = await app.deps.db.primary
      .selectFrom("media")
      .select("identification_id")
      .where(
        "identification_id",
        "in",
        batch.items.map((i) => i.identificationId),
      )
      .execute();
    expect(media).toHaveLength(2);
  });
});

describe("idempotent identifications from uploads", () => {
  /** A user with one received upload, and a sender of its identification under one Idempotency-Key. */
  async function keyedUpload() {
    const user = await registerUser(app);
    const bytes = await jpeg();
    const ticket = await ticketFor(user, bytes);
    await putBytes(ticket, bytes);
    const key = { "idempotency-key": crypto.randomUUID() };
    const send = () =>
      app.request(
        "/v1/identifications",
        jsonRequest("POST", { uploadIds: [ticket.uploadId] }, { ...user.headers, ...key }),
      );
    return { user, send };
  }

  test("a retry with the same Idempotency-Key after success gets the same identification, with fresh URLs", async () => {
    const { user, send } = await keyedUpload();
    const first = await send();
    expect(first.status).toBe(201);
    const created = IdentificationSchema.parse(await first.json());
    skewMs = 61_000; // the first answer's URLs have expired
    const again = await send();
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const replayed = IdentificationSchema.parse(await again.json());
    expect(replayed.id).toBe(created.id);
    expect(replayed.images[0]!.url).not.toBe(created.images[0]!.url);
    expect((await app.request(replayed.images[0]!.url)).status).toBe(200);
    expect(await identificationRowsOf(app, user.user.id)).toHaveLength(1);
  });

  test("a retry with the same key while the first request is still identifying is told to retry (409), not that its uploads are gone; then it gets the same identification", async () => {
    const { user, send } = await keyedUpload();
    sim.control.setLatency("plant-id", 300);
    const first = send();
    // The first request holds the uploads once it calls a provider.
    await sim.control.whenCalled("plant-id");
    const concurrent = await send();
    await expectProblem(concurrent, 409, "idempotency_key_in_use");
    expect(concurrent.headers.get("retry-after")).toBe("1");
    const created = IdentificationSchema.parse(await (await first).json());
    const retry = await send();
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(IdentificationSchema.parse(await retry.json()).id).toBe(created.id);
    expect(await identificationRowsOf(app, user.user.id)).toHaveLength(1);
  });
});

describe("private photo URLs", () => {
  test("photo URLs are signed, private, refuse tampering, expire, and stop at once after deletion", async () => {
    const user = await registerUser(app);
    const bytes = await jpeg();
    const ticket = await ticketFor(user, bytes);
    await putBytes(ticket, bytes);
    const created = IdentificationSchema.parse(await (await identifyFrom(user, [ticket.uploadId])).json());
    const { url, thumbnailUrl } = created.images[0]!;
    const issued = () =>
      metricValue(app.deps.metrics.registry, "signed_urls_issued_total", { kind: "media" });
    const issuedBefore = await issued();
    expect(url).toMatch(
      /^http:\/\/localhost\/v1\/media\/identifications\/[0-9a-f-]{36}\/[0-9a-f-]{36}\.jpg\?expires=\d+&signature=[\w-]+$/,
    );

    const image = await app.request(url);
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/jpeg");
    const cacheControl = image.headers.get("cache-control")!;
    expect(cacheControl).toMatch(/^private, max-age=\d+$/);
    expect(Number(cacheControl.split("=")[1])).toBeGreaterThanOrEqual(45);
    expect((await app.request(thumbnailUrl)).status).toBe(200);

    await expectProblem(await app.request(url.split("?")[0]!), 403, "invalid_link_signature");
    await expectProblem(
      await app.request(url.replace("signature=", "signature=x")),
      403,
      "invalid_link_signature",
    );
    // The thumbnail's signature does not open the full image.
    const thumbSignature = new URL(thumbnailUrl).search;
    await expectProblem(
      await app.request(`${url.split("?")[0]}${thumbSignature}`),
      403,
      "invalid_link_signature",
    );

    // Reading the identification again hands out the same URLs (stable ETag) until the next quarter of the TTL.
    const read = await app.request(`/v1/identifications/${created.id}`, { headers: user.headers });
    expect(IdentificationSchema.parse(await read.json()).images[0]!.url).toBe(url);
    expect(await issued()).toBe(issuedBefore + 2);
    const etag = read.headers.get("etag")!;
    const revalidated = await app.request(`/v1/identifications/${created.id}`, {
      headers: { ...user.headers, "if-none-match": etag },
    });
    expect(revalidated.status).toBe(304);

    skewMs = 61_000;
    await expectProblem(await app.request(url), 410, "link_expired");
    const fresh = IdentificationSchema.parse(
      await (await app.request(`/v1/identifications/${created.id}`, { headers: user.headers })).json(),
    ).images[0]!.url;
    expect(fresh).not.toBe(url);
    expect((await app.request(fresh)).status).toBe(200);
    // The body changed with its URLs: the old ETag no longer matches.
    const changed = await app.request(`/v1/identifications/${created.id}`, {
      headers: { ...user.headers, "if-none-match": etag },
    });
    expect(changed.status).toBe(200);

    expect(
      (await app.request(`/v1/identifications/${created.id}`, { method: "DELETE", headers: user.headers }))
        .status,
    ).toBe(204);
    await expectProblem(await app.request(fresh), 404, "not_found");
  });
});
