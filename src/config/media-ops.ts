import { z } from "zod";

const days = z.coerce.number().int().min(1);
const calls = z.coerce.number().int().min(0);

/** S3 storage classes a lifecycle Transition may name (S3 API reference, Transition.StorageClass). */
export const COLD_STORAGE_CLASSES = [
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "GLACIER_IR",
  "GLACIER",
  "DEEP_ARCHIVE",
] as const;
export type ColdStorageClass = (typeof COLD_STORAGE_CLASSES)[number];

/** Lifecycle rules of the bucket and per-user provider budgets; merged into the one schema in index.ts. */
export const MediaOpsEnvShape = {
  // `bun run media lifecycle`: unclaimed direct uploads (uploads/) expire after this many days.
  MEDIA_UPLOADS_EXPIRE_DAYS: days.default(1),
  // Stored originals and their thumbnails (identifications/) move to a colder class, then expire.
  MEDIA_ORIGINALS_COLD_AFTER_DAYS: days.default(90),
  MEDIA_ORIGINALS_COLD_STORAGE_CLASS: z.enum(COLD_STORAGE_CLASSES).default("STANDARD_IA"),
  MEDIA_ORIGINALS_EXPIRE_DAYS: days.default(365),
  // Provider calls (any provider) one user may cause per UTC day, by role; 0 = no per-user budget.
  PROVIDER_BUDGET_USER_DAILY: calls.default(150),
  PROVIDER_BUDGET_PREMIUM_DAILY: calls.default(1500),
  PROVIDER_BUDGET_ADMIN_DAILY: calls.default(0),
};

type MediaOpsEnv = z.infer<z.ZodObject<typeof MediaOpsEnvShape>>;

export type MediaOpsConfig = Readonly<{
  lifecycle: Readonly<{
    uploadsExpireDays: number;
    originalsColdAfterDays: number;
    originalsColdStorageClass: ColdStorageClass;
    originalsExpireDays: number;
  }>;
  /** Provider calls per user per UTC day, by role; 0 = unlimited. */
  userProviderBudgets: Readonly<{ user: number; premium: number; admin: number }>;
}>;

/** S3 itself refuses these combinations (PutBucketLifecycleConfiguration answers 400 InvalidArgument). */
export function checkMediaOpsEnv(env: MediaOpsEnv, ctx: z.RefinementCtx): void {
  const cold = env.MEDIA_ORIGINALS_COLD_AFTER_DAYS;
  if (env.MEDIA_ORIGINALS_EXPIRE_DAYS <= cold) {
    ctx.addIssue({
      code: "custom",
      path: ["MEDIA_ORIGINALS_EXPIRE_DAYS"],
      message: "must be greater than MEDIA_ORIGINALS_COLD_AFTER_DAYS",
    });
  }
  const ia = env.MEDIA_ORIGINALS_COLD_STORAGE_CLASS.endsWith("_IA");
  if (ia && cold < 30) {
    ctx.addIssue({
      code: "custom",
      path: ["MEDIA_ORIGINALS_COLD_AFTER_DAYS"],
      message: "S3 allows transitions to STANDARD_IA / ONEZONE_IA after 30 days at the earliest",
    });
  }
}

export function mediaOpsConfig(e: MediaOpsEnv): MediaOpsConfig {
  return {
    lifecycle: {
      uploadsExpireDays: e.MEDIA_UPLOADS_EXPIRE_DAYS,
      originalsColdAfterDays: e.MEDIA_ORIGINALS_COLD_AFTER_DAYS,
      originalsColdStorageClass: e.MEDIA_ORIGINALS_COLD_STORAGE_CLASS,
      originalsExpireDays: e.MEDIA_ORIGINALS_EXPIRE_DAYS,
    },
    userProviderBudgets: {
      user: e.PROVIDER_BUDGET_USER_DAILY,
      premium: e.PROVIDER_BUDGET_PREMIUM_DAILY,
      admin: e.PROVIDER_BUDGET_ADMIN_DAILY,
    },
  };
}
