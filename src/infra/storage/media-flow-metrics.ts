import { Counter, type Registry } from "prom-client";
import { perRegistry } from "../per-registry.ts";

/** Kinds of signed URL the API hands out (a bounded label set). */
export const SIGNED_URL_KINDS = ["media", "media_s3_get", "upload_local", "upload_s3"] as const;
export type SignedUrlKind = (typeof SIGNED_URL_KINDS)[number];

/** Why a direct upload was refused when claimed: the problem codes the client received. */
export const UPLOAD_FAILURE_CODES = [
  "upload_incomplete",
  "upload_checksum_mismatch",
  "payload_too_large",
  "unsupported_media_type",
  "invalid_image",
  "image_too_small",
  "image_too_many_pixels",
] as const;

function create(registry: Registry) {
  const m = {
    uploadVerificationFailures: new Counter({
      name: "upload_verification_failures_total",
      help: "Direct uploads refused when an identification claimed them, by problem code.",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
    signedUrlsIssued: new Counter({
      name: "signed_urls_issued_total",
      help: "Expiring signed URLs handed out: media (photo URLs), media_s3_get (redirects), upload_* (PUTs).",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
  };
  // Present at 0 from the start, so rate() sees every series.
  for (const code of UPLOAD_FAILURE_CODES) m.uploadVerificationFailures.labels(code).inc(0);
  for (const kind of SIGNED_URL_KINDS) m.signedUrlsIssued.labels(kind).inc(0);
  return m;
}

export type MediaFlowMetrics = ReturnType<typeof create>;
/** One set per registry (API and workers build theirs once; tests may build several). */
export const mediaFlowMetrics: (registry: Registry) => MediaFlowMetrics = perRegistry(create);
