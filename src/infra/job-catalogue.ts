import { z } from "zod";
import type { Lane, LaneConfig } from "../config/queues.ts";
import {
  AccountErasePayload,
  AccountExportPayload,
  CacheWarmPayload,
  CspDailyReportPayload,
  EmailSendPayload,
  IdentificationBatchPayload,
  IdentificationRunPayload,
  MediaPurgePayload,
  NotificationSendPayload,
  UploadsSweepPayload,
} from "./queue-payloads.ts";

/*
 * What the queues carry: every job by name, its payload schema and its lane, the envelope groupmq's `data` holds,
 * the checks a producer and a consumer make, and the retry delays. The queues themselves (connections, enqueue)
 * are queues.ts.
 */

/**
 * The one routing table: every job, its payload schema and its lane. Long work never shares a lane with short
 * work, so a ten-minute batch cannot delay a one-second notification; premium users get a lane of their own.
 */
export const JOBS = {
  "identification.run": { lane: "default", premiumLane: "priority", schema: IdentificationRunPayload },
  "identification.batch": { lane: "slow", schema: IdentificationBatchPayload },
  "notification.send": { lane: "fast", schema: NotificationSendPayload },
  "email.send": { lane: "fast", schema: EmailSendPayload },
  "media.purge": { lane: "slow", schema: MediaPurgePayload },
  "uploads.sweep": { lane: "slow", schema: UploadsSweepPayload },
  "cache.warm": { lane: "slow", schema: CacheWarmPayload },
  "csp.daily-report": { lane: "slow", schema: CspDailyReportPayload },
  "account.erase": { lane: "slow", schema: AccountErasePayload },
  "account.export": { lane: "slow", schema: AccountExportPayload },
} as const satisfies Record<string, { lane: Lane; premiumLane?: Lane; schema: z.ZodType }>;

export type JobName = keyof typeof JOBS;
export const JOB_NAMES = Object.keys(JOBS) as [JobName, ...JobName[]];
export type JobPayload<N extends JobName> = z.output<(typeof JOBS)[N]["schema"]>;
export type JobInput<N extends JobName> = z.input<(typeof JOBS)[N]["schema"]>;

export type UserRole = "user" | "premium" | "admin";

export function laneFor(name: JobName, userRole?: UserRole): Lane {
  const route: { lane: Lane; premiumLane?: Lane } = JOBS[name];
  return userRole === "premium" && route.premiumLane ? route.premiumLane : route.lane;
}

/** What travels in groupmq's `data`: groupmq has no job names, so the envelope carries ours. */
export const JobEnvelopeSchema = z.strictObject({
  name: z.enum(JOB_NAMES),
  payload: z.unknown(),
  enqueuedAt: z.number().int(),
  traceparent: z.string().max(128).optional(),
});
export type JobEnvelope = z.infer<typeof JobEnvelopeSchema>;

export class InvalidJobPayloadError extends Error {
  override readonly name = "InvalidJobPayloadError";
  constructor(
    readonly jobName: string,
    readonly issues: z.core.$ZodIssue[],
  ) {
    super(
      `invalid payload for ${jobName}: ${issues.map((i) => `${i.path.join(".") || "(root)"} ${i.message}`).join("; ")}`,
    );
  }
}

export function parsePayload<N extends JobName>(name: N, payload: unknown): JobPayload<N> {
  const parsed = JOBS[name].schema.safeParse(payload);
  if (!parsed.success) throw new InvalidJobPayloadError(name, parsed.error.issues);
  return parsed.data as JobPayload<N>;
}

/**
 * Delay before retry `attempt` (1 = the first retry): exponential from the lane's base, capped, with "equal
 * jitter" (half fixed, half random) so jobs that failed together do not all come back in the same instant.
 */
export function backoffDelay(lane: LaneConfig, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(lane.backoffMaxMs, lane.backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** The consumer side: a job is checked again when it runs (an old producer or a hand-made job may be wrong). */
export function parseEnvelope(data: unknown): { envelope: JobEnvelope; payload: unknown } {
  const parsed = JobEnvelopeSchema.safeParse(data);
  if (!parsed.success) throw new InvalidJobPayloadError("(envelope)", parsed.error.issues);
  return { envelope: parsed.data, payload: parsePayload(parsed.data.name, parsed.data.payload) };
}
