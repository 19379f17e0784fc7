import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";

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
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!BODY_METHODS.has(c.req.method) || !hasBody(c.req.raw)) return next();
    const policy = opts.policyFor?.(c.req.path) ?? {
      maxBytes: opts.defaultMaxBytes,
      mediaTypes: ["application/json"],
    };
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (!policy.mediaTypes.includes(mediaType)) {
      throw new ApiError(
        "unsupported_media_type",
        `Send the body as ${policy.mediaTypes.join(" or ")}${mediaType ? `, not ${mediaType}` : ""}.`,
      );
    }
    const declared = Number(c.req.header("content-length") ?? Number.NaN);
    if (declared > policy.maxBytes) {
      throw new ApiError("payload_too_large", `The body may be at most ${policy.maxBytes} bytes.`);
    }
    if (Number.isNaN(declared) && c.req.raw.body) {
      // Chunked: count while reading, and stop reading at the limit.
      c.req.raw = new Request(c.req.raw, {
        body: limitStream(c.req.raw.body, policy.maxBytes),
        duplex: "half",
      } as RequestInit);
    }
    return next();
  });
}

function limitStream(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) {
          controller.error(new ApiError("payload_too_large", `The body may be at most ${maxBytes} bytes.`));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}
