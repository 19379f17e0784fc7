/** The value types environment variables are written in, defined once for every config file. */
import { z } from "zod";

/** A whole number of at least `min` (from its decimal text). */
export const int = (min: number) => z.coerce.number().int().min(min);
/** Milliseconds, 0 or more. */
export const ms = z.coerce.number().int().nonnegative();
export const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
/** A comma-separated list; blanks dropped. */
export const csv = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
/** Unset or blank is undefined. */
export const optionalText = z
  .string()
  .optional()
  .transform((v) => v?.trim() || undefined);
export const optionalUrl = optionalText.pipe(z.string().url().optional());

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** A rate-limit policy written as `<limit>/<window>`, e.g. `5/15m`, `600/1m`, `100/1h`. */
export const rate = z
  .string()
  .regex(/^\d+\/\d+[smhd]$/, "write <limit>/<window>, e.g. 5/15m")
  .transform((v) => {
    const [limit = "0", window = "0s"] = v.split("/");
    const seconds = Number(window.slice(0, -1)) * UNIT_SECONDS[window.slice(-1) as keyof typeof UNIT_SECONDS];
    return { limit: Number(limit), windowSeconds: seconds };
  })
  .refine((r) => r.limit > 0 && r.windowSeconds > 0, "limit and window must be positive");
