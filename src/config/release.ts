/** The release command's configuration (migrations, then the species catalogue). */
export type ReleaseConfig = Readonly<{ databaseUrl: string }>;

/** The release command (migrations, then the species catalogue) needs the primary database and nothing else. */
export function parseReleaseConfig(source: Record<string, string | undefined>): ReleaseConfig {
  const production = source.NODE_ENV === "production";
  // Outside production the same local default as the full configuration.
  const url =
    source.DATABASE_URL || (production ? undefined : "postgres://postgres@127.0.0.1:5432/plant_community");
  if (!url) throw new Error("Invalid configuration:\n  DATABASE_URL: required in production");
  return Object.freeze({ databaseUrl: url });
}
