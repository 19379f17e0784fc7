import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context.ts";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Echoes a client's id when it is safe to log and return; otherwise mints one. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : Bun.randomUUIDv7();
  c.set("requestId", id);
  c.header("X-Request-Id", id);
  await next();
});
