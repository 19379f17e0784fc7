import { z } from "zod";

const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Direct uploads and private photo URLs (issue #13); merged into the one schema in config.ts. */
export const MediaFlowsEnvShape = {
  // How long a photo URL in an identification stays valid (signed /v1/media URL, then S3 presigned GET).
  MEDIA_URL_TTL_SECONDS: seconds(60, 7 * 86_400).default(3_600),
  // Key of the signed media and upload URLs, at least 32 characters; required in production (outside it,
  // derived from JWT_SECRET so API machines and workers agree).
  MEDIA_URL_SECRET: z.string().min(32, "at least 32 characters").optional(),
  // How long the signed PUT of POST /v1/uploads accepts the object.
  UPLOAD_URL_TTL_SECONDS: seconds(60, 86_400).default(900),
  // Unclaimed uploads one user may hold (each up to UPLOAD_MAX_FILE_BYTES) before POST /v1/uploads answers 429.
  UPLOADS_MAX_OUTSTANDING: z.coerce.number().int().min(1).default(20),
  // Unclaimed uploads (rows and objects) are removed after this long by the uploads.sweep job.
  UPLOADS_UNCLAIMED_MAX_AGE_HOURS: z.coerce.number().min(1).default(24),
  UPLOADS_SWEEP_EVERY_MS: z.coerce.number().int().min(1_000).default(3_600_000),
};

type MediaFlowsEnv = z.infer<z.ZodObject<typeof MediaFlowsEnvShape>> & {
  NODE_ENV: "development" | "test" | "production";
  DATABASE_URL: string;
  JWT_SECRET?: string | undefined;
};

export type MediaFlowsConfig = Readonly<{
  mediaFlows: Readonly<{
    mediaUrlTtlSeconds: number;
    mediaUrlSecret: string;
    uploadUrlTtlSeconds: number;
    maxOutstandingUploads: number;
    unclaimedMaxAgeSeconds: number;
    sweepEveryMs: number;
  }>;
}>;

export function checkMediaFlowsEnv(env: MediaFlowsEnv, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV === "production" && !env.MEDIA_URL_SECRET) {
    ctx.addIssue({ code: "custom", path: ["MEDIA_URL_SECRET"], message: "required in production" });
  }
  // A claim must find the object: the upload URL has to expire well before the sweep may take it.
  if (env.UPLOAD_URL_TTL_SECONDS * 2 > env.UPLOADS_UNCLAIMED_MAX_AGE_HOURS * 3_600) {
    ctx.addIssue({
      code: "custom",
      path: ["UPLOAD_URL_TTL_SECONDS"],
      message: "must be at most half of UPLOADS_UNCLAIMED_MAX_AGE_HOURS",
    });
  }
}

export function mediaFlowsConfig(e: MediaFlowsEnv): MediaFlowsConfig {
  return {
    mediaFlows: {
      mediaUrlTtlSeconds: e.MEDIA_URL_TTL_SECONDS,
      mediaUrlSecret: e.MEDIA_URL_SECRET ?? `media-urls:${e.JWT_SECRET ?? `development:${e.DATABASE_URL}`}`,
      uploadUrlTtlSeconds: e.UPLOAD_URL_TTL_SECONDS,
      maxOutstandingUploads: e.UPLOADS_MAX_OUTSTANDING,
      unclaimedMaxAgeSeconds: Math.round(e.UPLOADS_UNCLAIMED_MAX_AGE_HOURS * 3_600),
      sweepEveryMs: e.UPLOADS_SWEEP_EVERY_MS,
    },
  };
}
