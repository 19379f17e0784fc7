import { z } from "zod";

/** Account erasure and export (issue #13); merged into the one schema in index.ts. */
export const AccountDataEnvShape = {
  // Days between DELETE /v1/me and the erasure of the account's data (0: at the next run of the erasure job).
  ACCOUNT_ERASURE_GRACE_DAYS: z.coerce.number().min(0).default(30),
  // How often a slow-lane worker looks for accounts due for erasure (and expired exports to remove).
  ACCOUNT_ERASURE_EVERY_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  // How long an export archive, and its signed download link, stay valid.
  ACCOUNT_EXPORT_TTL_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 7)
    .default(24),
  // Key for signed export links, at least 32 characters; default derived from JWT_SECRET (required in production).
  ACCOUNT_EXPORT_LINK_SECRET: z.string().min(32, "at least 32 characters").optional(),
};

type AccountDataEnv = {
  NODE_ENV: "development" | "test" | "production";
  PORT: number;
  PUBLIC_BASE_URL?: string | undefined;
  DATABASE_URL: string;
  JWT_SECRET?: string | undefined;
  ACCOUNT_ERASURE_GRACE_DAYS: number;
  ACCOUNT_ERASURE_EVERY_MS: number;
  ACCOUNT_EXPORT_TTL_HOURS: number;
  ACCOUNT_EXPORT_LINK_SECRET?: string | undefined;
};

export type AccountDataConfig = Readonly<{
  accountData: Readonly<{
    erasureGraceSeconds: number;
    erasureEveryMs: number;
    exportTtlSeconds: number;
    /** Shared by the API (verifies) and the slow-lane workers (sign the link they e-mail). */
    exportLinkSecret: string;
    /** Where the signed links point: PUBLIC_BASE_URL, else this machine's API. */
    apiBaseUrl: string;
  }>;
}>;

export function accountDataConfig(e: AccountDataEnv): AccountDataConfig {
  return {
    accountData: {
      erasureGraceSeconds: Math.round(e.ACCOUNT_ERASURE_GRACE_DAYS * 86_400),
      erasureEveryMs: e.ACCOUNT_ERASURE_EVERY_MS,
      exportTtlSeconds: Math.round(e.ACCOUNT_EXPORT_TTL_HOURS * 3_600),
      // Outside production, without JWT_SECRET, API and workers still agree (a random per-process key would
      // make every e-mailed link invalid); production requires JWT_SECRET, so this fallback never runs there.
      exportLinkSecret:
        e.ACCOUNT_EXPORT_LINK_SECRET ?? `export-links:${e.JWT_SECRET ?? `development:${e.DATABASE_URL}`}`,
      apiBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    },
  };
}
