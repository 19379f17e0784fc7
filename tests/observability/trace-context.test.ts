import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { AppEnv } from "../../src/http/context.ts";
import { requestLogging } from "../../src/http/middleware/logging.ts";
import { traceContext } from "../../src/http/middleware/trace-context.ts";
import {
  childTraceparent,
  newTraceparent,
  outgoingTraceparent,
  parseTraceparent,
  traceIdOf,
  withTraceparent,
} from "../../src/infra/trace-context.ts";
import { capturingLogger } from "./metric-value.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const VALID = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const SHAPE = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/;

describe("traceparent parsing", () => {
  test("accepts a valid version 00 header", () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE_ID, parentId: "00f067aa0ba902b7", flags: "01" });
  });

  test("rejects malformed, all-zero, upper-case and version ff headers", () => {
    for (const bad of [
      "",
      "garbage",
      `00-${TRACE_ID}-00f067aa0ba902b7`,
      `00-${"0".repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-${"0".repeat(16)}-01`,
      `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`,
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-00f067aa0ba902b7-01-extra`,
      `01-${TRACE_ID}-00f067aa0ba902b7-01extra`,
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });

  test("accepts a later version with extra fields, keeping the four it knows", () => {
    expect(parseTraceparent(`01-${TRACE_ID}-00f067aa0ba902b7-01-what-the-future-brings`)?.traceId).toBe(
      TRACE_ID,
    );
  });

  test("a child keeps the trace id and flags with a new parent id; without a parent a new trace starts", () => {
    const child = childTraceparent(VALID);
    expect(child).toMatch(SHAPE);
    expect(traceIdOf(child)).toBe(TRACE_ID);
    expect(child.endsWith("-01")).toBe(true);
    expect(parseTraceparent(child)?.parentId).not.toBe("00f067aa0ba902b7");
    expect(childTraceparent(child)).not.toBe(childTraceparent(child));

    const fresh = childTraceparent(undefined);
    expect(fresh).toMatch(SHAPE);
    expect(traceIdOf(fresh)).not.toBe(TRACE_ID);
    expect(traceIdOf(newTraceparent())).not.toBe(traceIdOf(newTraceparent()));
  });

  test("reserved flag bits are not passed on", () => {
    expect(childTraceparent(`00-${TRACE_ID}-00f067aa0ba902b7-ff`).endsWith("-03")).toBe(true);
  });
});

function app() {
  const { logger, lines } = capturingLogger();
  const hono = new Hono<AppEnv>()
    .use(async (c, next) => {
      c.set("requestId", "req-12345678");
      await next();
    })
    .use(traceContext)
    .use(requestLogging(logger))
    .use(async (c, next) => {
      if (c.req.header("x-test-user")) {
        c.set("auth", { kind: "user", userId: c.req.header("x-test-user")!, role: "user", scopes: [] });
      }
      await next();
    })
    .get("/things/:id", (c) => c.json({ traceparent: c.var.traceparent, traceId: c.var.traceId }))
    .get("/boom", () => {
      throw new Error("boom");
    });
  // A raw Response, as the app's problem+json errors are: headers set on the context before do not reach it.
  hono.onError(
    () =>
      new Response('{"error":"internal"}', { status: 500, headers: { "content-type": "application/json" } }),
  );
  return { hono, lines };
}

describe("trace context middleware", () => {
  test("continues the caller's trace: same trace id on c.var, in the log line and on the response", async () => {
    const { hono, lines } = app();
    const res = await hono.request("/things/42", { headers: { traceparent: VALID } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { traceparent: string; traceId: string };
    expect(body.traceId).toBe(TRACE_ID);
    expect(body.traceparent).toMatch(SHAPE);
    expect(res.headers.get("traceparent")).toBe(body.traceparent);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        message: "request",
        requestId: "req-12345678",
        route: "/things/:id",
        status: 200,
        traceId: TRACE_ID,
      }),
    ]);
  });

  test("starts a new trace when the header is missing or invalid", async () => {
    const { hono } = app();
    for (const headers of [{}, { traceparent: "00-nonsense" }] as Record<string, string>[]) {
      const res = await hono.request("/things/1", { headers });
      const body = (await res.json()) as { traceId: string };
      expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(body.traceId).not.toBe(TRACE_ID);
      expect(traceIdOf(res.headers.get("traceparent"))).toBe(body.traceId);
    }
  });

  test("error responses carry the traceparent and their log line the trace id", async () => {
    const { hono, lines } = app();
    const res = await hono.request("/boom", { headers: { traceparent: VALID } });
    expect(res.status).toBe(500);
    expect(traceIdOf(res.headers.get("traceparent"))).toBe(TRACE_ID);
    expect(lines).toEqual([
      expect.objectContaining({ level: "error", message: "request failed", status: 500, traceId: TRACE_ID }),
    ]);
  });

  test("the log line names the signed-in user by id when there is one", async () => {
    const { hono, lines } = app();
    await hono.request("/things/1", { headers: { "x-test-user": "0190d7a8-0000-7000-8000-000000000001" } });
    await hono.request("/things/2");
    expect(lines[0]?.userId).toBe("0190d7a8-0000-7000-8000-000000000001");
    expect(lines[1]).not.toHaveProperty("userId");
  });
});

describe("propagation to outgoing calls", () => {
  test("a call made while handling a request carries a child of the request's trace; concurrent requests keep their own", async () => {
    // A stand-in provider that answers with the traceparent it received.
    const provider = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => Response.json({ received: req.headers.get("traceparent") }),
    });
    try {
      const hono = new Hono<AppEnv>().use(traceContext).get("/identify", async (c) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        const res = await fetch(`http://127.0.0.1:${provider.port}/`, {
          headers: withTraceparent({ accept: "application/json" }),
        });
        const { received } = (await res.json()) as { received: string | null };
        return c.json({ own: c.var.traceparent, received });
      });
      const traces = [TRACE_ID, "0af7651916cd43dd8448eb211c80319c", "5a0b3c9d1e2f40718293a4b5c6d7e8f9"];
      const answers = await Promise.all(
        traces.map(async (traceId) => {
          const res = await hono.request("/identify", {
            headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
          });
          return { traceId, ...((await res.json()) as { own: string; received: string | null }) };
        }),
      );
      for (const { traceId, own, received } of answers) {
        expect(received).toMatch(SHAPE);
        expect(traceIdOf(received)).toBe(traceId);
        // A child: same trace, its own parent id.
        expect(parseTraceparent(received)?.parentId).not.toBe(parseTraceparent(own)?.parentId);
      }
    } finally {
      await provider.stop(true);
    }
  });

  test("outside any request nothing is added", () => {
    expect(outgoingTraceparent()).toBeUndefined();
    expect(withTraceparent({ accept: "application/json" })).toEqual({ accept: "application/json" });
  });
});
