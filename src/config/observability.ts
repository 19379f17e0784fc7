import { z } from "zod";
import pkg from "../../package.json" with { type: "json" };

/** Traces (OpenTelemetry, OTLP/HTTP) and error tracking (Sentry); merged into the one schema in index.ts. */
export const ObservabilityEnvShape = {
  // Base URL of an OTLP/HTTP receiver (a collector, Tempo, Honeycomb…); spans go to <endpoint>/v1/traces.
  // Unset: no spans are recorded at all (the request path pays one branch per instrumented call).
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  // Only JSON over HTTP is built in (the official @opentelemetry/exporter-trace-otlp-http).
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .enum(["http/json"], { message: "only http/json is supported" })
    .default("http/json"),
  // Extra headers for the receiver, `key=value` pairs separated by commas (e.g. an API key).
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  // Head sampling: the share of new traces exported whole. Failed requests and jobs are exported anyway.
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(0.1),
  // Overrides the service name (default: plant-community-api, or plant-community-worker:<lanes>).
  OTEL_SERVICE_NAME: z.string().min(1).max(100).optional(),
  // Sentry (or a compatible server) for unexpected errors; unset sends nothing.
  SENTRY_DSN: z
    .string()
    .url()
    .refine(isSentryDsn, { message: "must look like https://<public key>@<host>/<project id>" })
    .optional(),
  // Defaults to NODE_ENV.
  SENTRY_ENVIRONMENT: z.string().min(1).max(64).optional(),
  // The release errors are counted against; defaults to plant-community-api@<package.json version>.
  SENTRY_RELEASE: z.string().min(1).max(200).optional(),
};

type ObservabilityEnv = {
  NODE_ENV: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_PROTOCOL: "http/json";
  OTEL_EXPORTER_OTLP_HEADERS?: string | undefined;
  OTEL_TRACES_SAMPLER_ARG: number;
  OTEL_SERVICE_NAME?: string | undefined;
  SENTRY_DSN?: string | undefined;
  SENTRY_ENVIRONMENT?: string | undefined;
  SENTRY_RELEASE?: string | undefined;
};

export type ObservabilityConfig = Readonly<{
  tracing: Readonly<{
    /** Full URL of the traces endpoint; undefined turns tracing off. */
    tracesUrl: string | undefined;
    headers: Readonly<Record<string, string>>;
    sampleRatio: number;
    serviceName: string | undefined;
  }>;
  errorTracking: Readonly<{ dsn: string | undefined; environment: string; release: string }>;
}>;

export function observabilityConfig(e: ObservabilityEnv): ObservabilityConfig {
  const endpoint = e.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, "");
  return {
    tracing: {
      tracesUrl: endpoint ? `${endpoint}/v1/traces` : undefined,
      headers: parseHeaders(e.OTEL_EXPORTER_OTLP_HEADERS),
      sampleRatio: e.OTEL_TRACES_SAMPLER_ARG,
      serviceName: e.OTEL_SERVICE_NAME,
    },
    errorTracking: {
      dsn: e.SENTRY_DSN || undefined,
      environment: e.SENTRY_ENVIRONMENT ?? e.NODE_ENV,
      release: e.SENTRY_RELEASE ?? `plant-community-api@${pkg.version}`,
    },
  };
}

function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of raw?.split(",") ?? []) {
    const at = pair.indexOf("=");
    if (at > 0)
      headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/** A DSN names the public key as the URL's user and the project as its last path segment. */
function isSentryDsn(dsn: string): boolean {
  // zod runs this refinement even when .url() failed: a string that is no URL at all is that check's error.
  if (!URL.canParse(dsn)) return true;
  const url = new URL(dsn);
  return url.username.length > 0 && /\/[^/]+\/?$/.test(url.pathname);
}
