import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context.ts";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Echoes a client's id when it is safe to log and return; otherwise mints one. Work before the handler only:
 * a plain function handing back next()'s promise, not an async one awaiting it (one async frame and promise
 * less per request; the same for the other before-only middleware, issue #17).
 */
export const requestId = createMiddleware<AppEnv>((c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : Bun.randomUUIDv7();
  c.set("requestId", id);
  c.header("X-Request-Id", id);
  return next();
});
