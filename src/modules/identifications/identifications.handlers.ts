import type { RouteHandler } from "@hono/zod-openapi";
import type { Config } from "../../config/index.ts";
import type { AppEnv } from "../../http/context.ts";
import { linkerFor } from "../../http/links.ts";
import { withPageLinks } from "../../http/pagination.ts";
import { presentIdentification, presentIdentificationPage } from "./identifications.links.ts";
import type { readMedia } from "./identifications.media.ts";
import { callerOf, prefersRespondAsync, queueCallerOf } from "./identifications.request.ts";
import type {
  createIdentificationFromUploadsRoute,
  createIdentificationRoute,
  deleteIdentificationRoute,
  getIdentificationRoute,
  getMediaRoute,
  listIdentificationsRoute,
} from "./identifications.routes.ts";
import type { IdentificationsService } from "./identifications.service.ts";
import { readIdentificationForm } from "./identifications.upload.ts";
import { readUploadIdsBody } from "./identifications.upload-ids.ts";

export function identificationHandlers(
  service: IdentificationsService,
  media: (req: Parameters<typeof readMedia>[1]) => ReturnType<typeof readMedia>,
  uploadLimits: Config["uploads"],
) {
  type CreateRoute = typeof createIdentificationRoute | typeof createIdentificationFromUploadsRoute;
  async function answerCreate(
    c: Parameters<RouteHandler<CreateRoute, AppEnv>>[0],
    read: () => Promise<Parameters<IdentificationsService["create"]>[1]>,
  ) {
    const headers = c.req.valid("header");
    // Both providers open: refused already by the route's providersAvailable() policy, before the body is read.
    const background = prefersRespondAsync(headers.prefer) ? queueCallerOf(c) : undefined;
    const { identification, replayed } = await service.create(callerOf(c), await read(), {
      idempotencyKey: headers["idempotency-key"],
      background,
    });
    const resource = presentIdentification(identification, linkerFor(c));
    c.header("Location", resource.links.self);
    if (replayed) c.header("Idempotent-Replayed", "true");
    if (identification.status === "completed") return c.json(resource, 201);
    c.header("Preference-Applied", "respond-async");
    return c.json(resource, 202);
  }

  // JSON names photos uploaded before (POST /v1/uploads); anything else is the multipart form.
  const create: RouteHandler<typeof createIdentificationRoute, AppEnv> = (c) =>
    answerCreate(
      c,
      async () =>
        (await readUploadIdsBody(c.req.raw)) ?? (await readIdentificationForm(c.req.raw, uploadLimits)),
    );

  const createFromUploads: RouteHandler<typeof createIdentificationFromUploadsRoute, AppEnv> = (c) =>
    answerCreate(c, async () => c.req.valid("json"));

  const list: RouteHandler<typeof listIdentificationsRoute, AppEnv> = async (c) => {
    const page = withPageLinks(c, await service.list(callerOf(c), c.req.valid("query")));
    return c.json(presentIdentificationPage(page, linkerFor(c)), 200);
  };

  const get: RouteHandler<typeof getIdentificationRoute, AppEnv> = async (c) => {
    const identification = await service.get(callerOf(c), c.req.valid("param").id);
    return c.json(presentIdentification(identification, linkerFor(c)), 200);
  };

  const remove: RouteHandler<typeof deleteIdentificationRoute, AppEnv> = async (c) => {
    await service.remove(callerOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  };

  const image: RouteHandler<typeof getMediaRoute, AppEnv> = async (c) => {
    const answer = await media({ ...c.req.valid("param"), ...c.req.valid("query") });
    // Private: the URL is a capability; shared caches must not keep (or hand out) a user's photo.
    const cacheControl = `private, max-age=${answer.maxAgeSeconds}`;
    if (answer.kind === "redirect") {
      return c.body(null, 302, { location: answer.location, "cache-control": cacheControl }) as never;
    }
    const { blob } = answer;
    return c.body(blob.body as Uint8Array<ArrayBuffer>, 200, {
      "content-type": blob.contentType,
      "content-length": String(blob.size),
      "cache-control": cacheControl,
    }) as never;
  };

  return { create, createFromUploads, list, get, remove, image };
}
