import type { ObservabilityConfig } from "../config/observability.ts";
import type { Logger } from "./logger.ts";
import { buildEvent } from "./sentry/event.ts";
import { createEventTransport, parseDsn } from "./sentry/transport.ts";

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
 * Unexpected errors to Sentry (or a compatible server), sent as envelopes by our own small sender
 * (src/infra/sentry/): the events carry the exception with its stack, our tags, the user's id, the trace and
 * job context, release and environment, and nothing else (no request bodies, headers, cookies or IPs).
 * Only errors we did not expect come here: problems we answer on purpose (4xx, outages answered 503) do not.
 */
export function createErrorTracker(
  config: ObservabilityConfig["errorTracking"],
  serverName: string,
  logger: Logger,
): ErrorTracker {
  if (!config.dsn) return OFF;
  let warned = 0;
  const warn = (reason: string) => {
    // One line per minute at most: a Sentry that is down or limiting us must not flood the log.
    if (Date.now() - warned < 60_000) return;
    warned = Date.now();
    logger.warn({ err: reason }, "error tracking failed");
  };
  const transport = createEventTransport(parseDsn(config.dsn), warn);
  const source = { release: config.release, environment: config.environment, serverName };
  return {
    enabled: true,
    capture(err, context) {
      try {
        if (!transport.send(buildEvent(err, context, source)))
          warn("event dropped (rate limited or backlog)");
      } catch (failure) {
        warn(String(failure));
      }
    },
    flush: async (timeoutMs = 2_000) => await transport.flush(timeoutMs),
  };
}
