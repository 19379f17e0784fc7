import type { Tracer } from "@opentelemetry/api";
import type { ObservabilityConfig } from "../../config/observability.ts";
import type { Logger } from "../logger.ts";

export type Tracing = Readonly<{
  /** Undefined when tracing is off: every instrumented call then costs one branch. */
  tracer: Tracer | undefined;
  /** Sends what is buffered (at shutdown, and for tests that read the receiver). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}>;

export type ServiceIdentity = { name: string; version: string; environment: string };

const OFF: Tracing = { tracer: undefined, flush: async () => {}, shutdown: async () => {} };

/**
 * A tracer provider of our own per process (not registered globally: nothing patches modules behind our back,
 * and tests can build several apps in one process). Spans are handed to code below through the trace scope
 * (src/infra/trace-context.ts), so only the entry points (HTTP middleware, job runner) need this tracer.
 */
export async function createTracing(
  config: ObservabilityConfig["tracing"],
  service: ServiceIdentity,
  logger: Logger,
): Promise<Tracing> {
  if (!config.tracesUrl) return OFF;
  // Loaded only when tracing is on: the SDK and exporter cost ~0.2-1 s of start-up (more on a busy machine).
  const { startTracing } = await import("./tracing-sdk.ts");
  return startTracing({ ...config, tracesUrl: config.tracesUrl }, service, logger);
}
