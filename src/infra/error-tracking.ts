import type { ObservabilityConfig } from "../config/observability.ts";
import type { Logger } from "./logger.ts";

/** What we know about where an unexpected error happened. Never personal data beyond the user's id. */
export type ErrorContext = {
  requestId?: string | undefined;
  route?: string | undefined;
  method?: string | undefined;
  userId?: string | undefined;
  /** The trace the error belongs to (the same id as in logs, problem bodies and exported spans). */
  traceId?: string | undefined;
  spanId?: string | undefined;
  /** Worker job failures: the job's name, lane, id and attempt. */
  job?: { name: string; lane: string; id: string; attempt: number } | undefined;
};

export type ErrorTracker = Readonly<{
  enabled: boolean;
  /** Sends the error with its context; never throws, never waits. */
  capture(err: unknown, context: ErrorContext): void;
  /** Waits (bounded) until the queued events are sent: at shutdown, and in tests. */
  flush(timeoutMs?: number): Promise<boolean>;
}>;

const OFF: ErrorTracker = { enabled: false, capture() {}, flush: async () => true };

/**
 * Sentry's client for Bun, built per process and used through an explicit scope: no `Sentry.init`, so nothing
 * global is patched (no auto-instrumentation beside our own OpenTelemetry setup) and tests can build several.
 * Only errors we did not expect come here: problems we answer on purpose (4xx, outages answered 503) do not.
 */
export async function createErrorTracker(
  config: ObservabilityConfig["errorTracking"],
  serverName: string,
  logger: Logger,
): Promise<ErrorTracker> {
  if (!config.dsn) return OFF;
  // Loaded only when a DSN is set: the SDK takes ~0.5-2.5 s to import (measured on this machine).
  const { defaultStackParser, makeFetchTransport, NodeClient, Scope } = await import("@sentry/bun");
  const client = new NodeClient({
    dsn: config.dsn,
    release: config.release,
    environment: config.environment,
    serverName,
    transport: makeFetchTransport,
    stackParser: defaultStackParser,
    integrations: [],
    // No integrations, so no request bodies, headers, cookies or IPs: only what capture() sets below.
    maxBreadcrumbs: 0,
  });
  client.init();
  return {
    enabled: true,
    capture(err, context) {
      try {
        const scope = new Scope();
        scope.setClient(client);
        const tags: Record<string, string> = {};
        if (context.requestId) tags.request_id = context.requestId;
        if (context.route) tags.route = context.route;
        if (context.method) tags.method = context.method;
        if (context.job) {
          tags.job = context.job.name;
          tags.lane = context.job.lane;
        }
        scope.setTags(tags);
        if (context.job) scope.setContext("job", { ...context.job });
        if (context.userId) scope.setUser({ id: context.userId });
        if (context.traceId) {
          scope.setPropagationContext({
            traceId: context.traceId,
            ...(context.spanId ? { parentSpanId: context.spanId } : {}),
            sampleRand: Math.random(),
          });
        }
        client.captureException(err, { originalException: err }, scope);
      } catch (failure) {
        logger.warn({ err: String(failure) }, "error tracking failed");
      }
    },
    flush: async (timeoutMs = 2_000) => await client.flush(timeoutMs),
  };
}
