import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/core/app-error.ts";
import { errorHeaders, problemResponse } from "../../src/http/errors.ts";
import { withPageLinks } from "../../src/http/pagination.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { registerUser } from "../helpers/auth.ts";
import { identificationRowsOf, postIdentification, uploadForm, useIdentifyApp } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";

const fx = useIdentifyApp();

const callerOf = (userId: string) => ({
  userId,
  actor: { kind: "user" as const, userId },
  clientKey: `user:${userId}`,
});

describe("the identifications service takes plain values, not a request", () => {
  test("photos given as bytes are identified, stored and then served by the REST API", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const { identification, replayed } = await fx.app.services.identifications.create(
      callerOf(user.user.id),
      {
        photos: [{ bytes: photo, contentType: "image/jpeg", filename: "leaf.jpg" }],
        organs: ["leaf"],
      },
    );
    expect(replayed).toBe(false);
    expect(identification.status).toBe("completed");

    const res = await fx.app.request(`/v1/identifications/${identification.id}`, { headers: user.headers });
    expect(res.status).toBe(200);
    const served = IdentificationSchema.parse(await res.json());
    expect(served.id).toBe(identification.id);
    expect(served.images).toHaveLength(1);
  });

  test("a REST upload and a direct call with the same photo, fields and Idempotency-Key are the same request", async () => {
    const user = await registerUser(fx.app);
    const photo = await jpeg();
    const key = crypto.randomUUID();
    const rest = await postIdentification(fx.app, user.headers, uploadForm([photo], { organs: "leaf" }), {
      "idempotency-key": key,
    });
    expect(rest.status).toBe(201);
    const original = IdentificationSchema.parse(await rest.json());
    const calls = fx.sim.control.allCalls();

    const direct = await fx.app.services.identifications.create(
      callerOf(user.user.id),
      { photos: [{ bytes: photo }], organs: ["leaf"] },
      { idempotencyKey: key },
    );
    expect(direct.replayed).toBe(true);
    expect(direct.identification.id).toBe(original.id);
    expect(fx.sim.control.allCalls()).toEqual(calls);
    expect(await identificationRowsOf(fx.app, user.user.id)).toHaveLength(1);
  });

  test("input breaking the upload rules is refused with our codes and nothing is written", async () => {
    const user = await registerUser(fx.app);
    const callsBefore = fx.sim.control.allCalls();
    const create = (input: Parameters<typeof fx.app.services.identifications.create>[1]) =>
      fx.app.services.identifications.create(callerOf(user.user.id), input).then(
        () => undefined,
        (err: unknown) => err,
      );

    const notAnImage = await create({ photos: [{ bytes: new TextEncoder().encode("just text") }] });
    expect(notAnImage).toBeInstanceOf(AppError);
    expect((notAnImage as AppError).code).toBe("unsupported_media_type");

    const photo = await jpeg();
    const organs = await create({ photos: [{ bytes: photo }], organs: ["leaf", "flower"] });
    expect((organs as AppError).code).toBe("validation_failed");
    expect((organs as AppError).errors).toEqual([
      { path: "organs", message: "send one organ per image (1), or none" },
    ]);

    const none = await create({ photos: [] });
    expect((none as AppError).code).toBe("validation_failed");
    expect(fx.sim.control.allCalls()).toEqual(callsBefore);
    expect(await identificationRowsOf(fx.app, user.user.id)).toHaveLength(0);
  });
});

describe("REST maps AppError and pages", () => {
  test("transport-free error fields become the HTTP headers and status of the problem document", async () => {
    const decision = {
      allowed: false,
      policy: { name: "default", limit: 600, windowSeconds: 60 },
      remaining: 0,
      resetMs: 42_000,
    };
    const err = new AppError("rate_limited", "Slow down.", {
      retryAfterSeconds: 42,
      rateLimits: [decision as never],
    });
    const res = problemResponse(err, "/v1/species", "req-1");
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("retry-after")).toBe("42");
    expect(res.headers.get("ratelimit")).toBe('"default";r=0;t=42');
    expect(res.headers.get("ratelimit-policy")).toBe('"default";q=600;w=60');
    expect(await res.json()).toMatchObject({ code: "rate_limited", status: 429, detail: "Slow down." });

    const challenge = new AppError("insufficient_scope", "Missing scope: admin.", {
      authChallenge: { error: "insufficient_scope", scope: "admin" },
    });
    expect(errorHeaders(challenge)).toEqual({
      "WWW-Authenticate": 'Bearer realm="plant-community", error="insufficient_scope", scope="admin"',
    });
    const described = new AppError("invalid_token", 'The "token" is bad.', {
      authChallenge: { error: "invalid_token", description: 'The "token" is bad.' },
    });
    expect(errorHeaders(described)["WWW-Authenticate"]).toBe(
      `Bearer realm="plant-community", error="invalid_token", error_description="The 'token' is bad."`,
    );
    expect(
      errorHeaders(new AppError("method_not_allowed", undefined, { allowedMethods: ["GET", "HEAD"] })),
    ).toEqual({
      Allow: "GET, HEAD",
    });
  });

  test("a service page gets self and next links from the request's own URL", () => {
    const page = { data: [1, 2], nextCursor: "abc" };
    const linked = withPageLinks({ req: { url: "http://x.test/v1/species?limit=2&q=rosa" } }, page);
    expect(linked.links).toEqual({
      self: "/v1/species?limit=2&q=rosa",
      next: "/v1/species?limit=2&q=rosa&cursor=abc",
    });
    expect(
      withPageLinks({ req: { url: "http://x.test/v1/species" } }, { data: [], nextCursor: null }).links,
    ).toEqual({
      self: "/v1/species",
      next: null,
    });
  });
});
