import { z } from "zod";

/** Payloads carry ids, never rows: a job reads the current state when it runs (it may run twice, or late). */
export const IdentificationRunPayload = z.strictObject({
  identificationId: z.uuid(),
  userId: z.uuid(),
});

export const IdentificationBatchPayload = z.strictObject({
  batchId: z.uuid(),
  userId: z.uuid(),
});

export const NotificationSendPayload = z.strictObject({
  userId: z.uuid(),
  /** Names the event (`identification.completed:<id>`): the same key never makes a second notification. */
  key: z.string().min(1).max(200),
  kind: z.string().regex(/^[a-z]+(\.[a-z_]+)+$/, "a dotted event name such as identification.completed"),
  title: z.string().min(1).max(200),
  body: z.string().max(2_000).default(""),
  data: z.record(z.string(), z.unknown()).default({}),
});

export const EmailSendPayload = z.strictObject({
  /** Idempotency key: one message per key however often the job is delivered. */
  key: z.string().min(1).max(200),
  to: z.email(),
  subject: z.string().min(1).max(300),
  text: z.string().min(1).max(100_000),
  html: z.string().max(500_000).optional(),
});

export const MediaPurgePayload = z.strictObject({
  /** Override of MEDIA_RETENTION_DAYS for one run (operators, tests). */
  retentionDays: z.number().min(0).optional(),
  limit: z.number().int().min(1).max(10_000).default(500),
});

export const UploadsSweepPayload = z.strictObject({
  /** Override of UPLOADS_UNCLAIMED_MAX_AGE_HOURS for one run, in seconds (operators, tests). */
  maxAgeSeconds: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(10_000).default(500),
});

export const CacheWarmPayload = z.strictObject({
  topN: z.number().int().min(1).max(1_000).optional(),
});

export const CspDailyReportPayload = z.strictObject({
  /** The UTC day to report (`YYYY-MM-DD`); by default the day before the job runs. */
  day: z.iso.date().optional(),
});

export const AccountErasePayload = z.strictObject({
  /** Accounts erased per page of the run (each in bounded steps); the run continues until none is due. */
  limit: z.number().int().min(1).max(1_000).default(50),
});

export const AccountExportPayload = z.strictObject({
  exportId: z.uuid(),
  userId: z.uuid(),
});
