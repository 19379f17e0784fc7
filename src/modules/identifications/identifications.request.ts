/** The REST side of the identification module: who is calling and what they asked for, read from the request. */
import type { Context } from "hono";
import type { AppEnv } from "../../http/context.ts";
import { authOf } from "../../http/security.ts";
import { auditActor } from "../audit/audit.record.ts";
import type { QueueCaller } from "./identifications.jobs.ts";
import type { Caller } from "./identifications.service.ts";

export function callerOf(c: Context<AppEnv>): Caller {
  return { userId: authOf(c).userId, actor: auditActor(c), clientKey: c.var.clientKey };
}

/** RFC 7240: `Prefer: respond-async` (among other preferences, any case). */
export function prefersRespondAsync(prefer: string | undefined): boolean {
  return (prefer ?? "").split(",").some((p) => p.split(";")[0]!.trim().toLowerCase() === "respond-async");
}

/** Who submits background work: the queue needs the role (premium -> priority lane) and the trace context. */
export function queueCallerOf(c: Context<AppEnv>): QueueCaller {
  const auth = authOf(c);
  return {
    userId: auth.userId,
    role: auth.role,
    actor: auditActor(c),
    clientKey: c.var.clientKey,
    traceparent: c.var.traceparent,
  };
}
