import { beforeAll, describe, expect, test } from "bun:test";
import { registerUser, type TestUser } from "../helpers/auth.ts";
import {
  filesUnder,
  identificationRowsOf,
  postIdentification,
  type UploadFile,
  uploadForm,
  useIdentifyApp,
} from "../helpers/identify.ts";
import { jpeg, pngBomb, truncatedJpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";

const MB = 1024 * 1024;

const fx = useIdentifyApp();
let user: TestUser;
beforeAll(async () => {
  user = await registerUser(fx.app);
});

/** A refusal costs nothing: no row, no stored object, no provider call. */
async function expectNothingSpent() {
  expect(await identificationRowsOf(fx.app, user.user.id)).toHaveLength(0);
  expect(await filesUnder(fx.dir)).toEqual([]);
  expect(fx.sim.control.allCalls()).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 0 });
}

async function refused(
  files: UploadFile[],
  fields: Record<string, string | string[]>,
  status: number,
  code: string,
) {
  const body = await expectProblem(
    await postIdentification(fx.app, user.headers, uploadForm(files, fields)),
    status,
    code,
  );
  await expectNothingSpent();
  return body;
}

/**
 * A multipart body produced chunk by chunk: one file part of `fileBytes` zero bytes (after a JPEG signature),
 * repeated `files` times. Counts what the server pulled and whether it cancelled the stream.
 */
function streamingUpload(opts: { files: number; fileBytes: number }) {
  const boundary = `b${crypto.randomUUID()}`;
  const enc = new TextEncoder();
  const chunk = new Uint8Array(64 * 1024);
  const state = { pulled: 0, cancelled: false };
  let file = 0;
  let written = -1;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      let out: Uint8Array;
      if (file === opts.files) {
        out = enc.encode(`\r\n--${boundary}--\r\n`);
        controller.enqueue(out);
        controller.close();
      } else if (written < 0) {
        const head = enc.encode(
          `${file === 0 ? "" : "\r\n"}--${boundary}\r\nContent-Disposition: form-data; name="images"; filename="p${file}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
        );
        out = new Uint8Array([...head, 0xff, 0xd8, 0xff]);
        written = 0;
        controller.enqueue(out);
      } else {
        out = chunk.subarray(0, Math.min(chunk.length, opts.fileBytes - written));
        written += out.length;
        if (written >= opts.fileBytes) {
          file += 1;
          written = -1;
        }
        controller.enqueue(out);
      }
      state.pulled += out.length;
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { body, state, contentType: `multipart/form-data; boundary=${boundary}` };
}

describe("uploads are refused before anything is stored or any provider is called", () => {
  test("a request without an images part is a 400 naming the field", async () => {
    const body = await refused([], { organs: "leaf" }, 400, "validation_failed");
    expect(body.errors?.[0]?.path).toBe("form.images");
  });

  test("six images are a 400: at most five per identification", async () => {
    const photo = await jpeg({ width: 120, height: 120 });
    const body = await refused([photo, photo, photo, photo, photo, photo], {}, 400, "validation_failed");
    expect(body.errors).toEqual([{ path: "form.images", message: "at most 5 images per identification" }]);
  });

  test("an images part sent as a text field is a 400", async () => {
    const form = new FormData();
    form.append("images", "not a file");
    await expectProblem(await postIdentification(fx.app, user.headers, form), 400, "validation_failed");
    await expectNothingSpent();
  });

  test("a GIF named photo.jpg and declared image/jpeg is a 415: the type is judged by the file's bytes", async () => {
    const gif = new TextEncoder().encode(
      "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    );
    await refused([{ bytes: gif, type: "image/jpeg", name: "photo.jpg" }], {}, 415, "unsupported_media_type");
  });

  test("a PDF among valid photos is a 415 and none of the photos is stored", async () => {
    const pdf = new TextEncoder().encode("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF");
    await refused(
      [await jpeg(), { bytes: pdf, type: "image/png", name: "x.png" }],
      {},
      415,
      "unsupported_media_type",
    );
  });

  test("a JPEG cut off half way is a 400 invalid_image", async () => {
    const body = await refused([await truncatedJpeg()], {}, 400, "invalid_image");
    expect(body.detail).toContain("could not be decoded");
  });

  test("bytes that start like a JPEG but are not one are a 400 invalid_image", async () => {
    const fake = new Uint8Array(4096).fill(7);
    fake.set([0xff, 0xd8, 0xff, 0xe0]);
    await refused([fake], {}, 400, "invalid_image");
  });

  test("an image narrower than 100 px is a 400 image_too_small", async () => {
    await refused([await jpeg({ width: 99, height: 400 })], {}, 400, "image_too_small");
  });

  test("a decompression bomb (a small PNG declaring 100 megapixels) is a 400 before it is decoded", async () => {
    const bomb = await pngBomb(10_000, 10_000);
    expect(bomb.length).toBeLessThan(1024);
    const body = await refused(
      [{ bytes: bomb, type: "image/png", name: "bomb.png" }],
      {},
      400,
      "image_too_many_pixels",
    );
    expect(body.detail).toContain("50 megapixels");
  });

  test("organs must be valid and one per image", async () => {
    const photo = await jpeg({ width: 120, height: 120 });
    const wrongCount = await refused([photo, photo], { organs: "leaf" }, 400, "validation_failed");
    expect(wrongCount.errors?.[0]?.path).toBe("form.organs");
    const wrongValue = await refused([photo], { organs: "root" }, 400, "validation_failed");
    expect(wrongValue.errors?.[0]?.message).toContain("leaf, flower, fruit, bark, auto");
  });

  test("a latitude without a longitude, or out of range, is a 400 naming the field", async () => {
    const photo = await jpeg({ width: 120, height: 120 });
    const alone = await refused([photo], { latitude: "50" }, 400, "validation_failed");
    expect(alone.errors).toEqual([
      { path: "form.longitude", message: "send latitude and longitude together" },
    ]);
    const outOfRange = await refused([photo], { latitude: "91", longitude: "10" }, 400, "validation_failed");
    expect(outOfRange.errors?.[0]?.path).toBe("form.latitude");
  });

  test("an unknown form field is a 400 rather than silently ignored", async () => {
    const body = await refused([await jpeg()], { lat: "50" }, 400, "validation_failed");
    expect(body.errors).toEqual([{ path: "form.lat", message: "is not a field of this form" }]);
  });

  test("photos in a JSON body are refused: JSON names upload ids (issue #13), other types are a 415", async () => {
    const json = await postIdentification(
      fx.app,
      { ...user.headers, "content-type": "application/json" },
      JSON.stringify({ images: [] }),
    );
    const problem = await expectProblem(json, 400, "validation_failed");
    expect(problem.errors?.map((e) => e.path)).toContain("json.uploadIds");
    const text = await postIdentification(
      fx.app,
      { ...user.headers, "content-type": "text/plain" },
      "images",
    );
    await expectProblem(text, 415, "unsupported_media_type");
    await expectNothingSpent();
  });

  test("a file over 10 MB is a 413 as soon as the limit is crossed, without reading the rest of the body", async () => {
    // 200 MB announced by nothing (chunked): the server must stop reading near 10 MB.
    const upload = streamingUpload({ files: 1, fileBytes: 200 * MB });
    const res = await postIdentification(
      fx.app,
      { ...user.headers, "content-type": upload.contentType },
      upload.body,
      {},
    );
    const body = await expectProblem(res, 413, "payload_too_large");
    expect(body.detail).toContain(String(10 * MB));
    expect(upload.state.pulled).toBeLessThan(11 * MB);
    expect(upload.state.cancelled).toBe(true);
    await expectNothingSpent();
  });

  test("a request over 30 MB in files of 9 MB each is a 413 while streaming", async () => {
    const upload = streamingUpload({ files: 5, fileBytes: 9 * MB });
    const res = await postIdentification(
      fx.app,
      { ...user.headers, "content-type": upload.contentType },
      upload.body,
    );
    const body = await expectProblem(res, 413, "payload_too_large");
    expect(body.detail).toContain(String(30 * MB));
    expect(upload.state.pulled).toBeLessThan(31 * MB);
    await expectNothingSpent();
  });

  test("a declared Content-Length over 30 MB is a 413 before a byte of the body is read", async () => {
    const upload = streamingUpload({ files: 5, fileBytes: 9 * MB });
    const res = await postIdentification(
      fx.app,
      { ...user.headers, "content-type": upload.contentType, "content-length": String(45 * MB) },
      upload.body,
    );
    await expectProblem(res, 413, "payload_too_large");
    expect(upload.state.pulled).toBeLessThan(1 * MB);
    await expectNothingSpent();
  });
});
