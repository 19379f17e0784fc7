import type { Context, Next } from "hono";
import { createMiddleware } from "hono/factory";
import { AppError } from "../../core/app-error.ts";
import type { AppEnv } from "../context.ts";
import { problem } from "../error-handler.ts";

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  if (length !== null) return Number(length) > 0;
  if (req.headers.has("transfer-encoding")) return true;
  return req.body !== null && req.headers.has("content-type");
}

/**
 * Refuses a body we will not read before anything parses it: a declared length over the limit (413),
 * or a media type the API does not speak (415). Routes that accept uploads set their own larger limit and
 * their media types through `bodyPolicy`.
 */
export function bodyGuards(opts: {
  defaultMaxBytes: number;
  policyFor?: (path: string) => { maxBytes: number; mediaTypes: string[] } | undefined;
}) {
  // Requests without a body (every read) pass straight on, without an async frame of their own.
  return createMiddleware<AppEnv>((c, next) => {
    if (!BODY_METHODS.has(c.req.method) || !hasBody(c.req.raw)) return next();
    return guardBody(c, next, opts);
  });
}

async function guardBody(
  c: Context<AppEnv>,
  next: Next,
  opts: Parameters<typeof bodyGuards>[0],
): Promise<void> {
  const policy = opts.policyFor?.(c.req.path) ?? {
    maxBytes: opts.defaultMaxBytes,
    mediaTypes: ["application/json"],
  };
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!policy.mediaTypes.includes(mediaType)) {
    throw new AppError(
      "unsupported_media_type",
      `Send the body as ${policy.mediaTypes.join(" or ")}${mediaType ? `, not ${mediaType}` : ""}.`,
    );
  }
  const declared = Number(c.req.header("content-length") ?? Number.NaN);
  if (declared > policy.maxBytes) {
    throw new AppError("payload_too_large", `The body may be at most ${policy.maxBytes} bytes.`);
  }
  if (!Number.isNaN(declared) || !c.req.raw.body) return next();
  // Chunked: count while reading, and stop reading at the limit. Whoever reads the body (the JSON validator,
  // the multipart parser) sees a stream error and answers in its own words (400 malformed_body); the limit
  // is what happened, so the answer becomes the 413 whatever the reader made of it.
  const tooLarge = new AppError("payload_too_large", `The body may be at most ${policy.maxBytes} bytes.`);
  let exceeded = false;
  c.req.raw = new Request(c.req.raw, {
    body: limitStream(c.req.raw.body, policy.maxBytes, tooLarge, () => {
      exceeded = true;
    }),
    duplex: "half",
  } as RequestInit);
  await next();
  if (exceeded && c.res.status !== 413) c.res = problem(c, tooLarge);
}

function limitStream(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: AppError,
  onExceeded: () => void,
): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) {
          onExceeded();
          controller.error(tooLarge);
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}
