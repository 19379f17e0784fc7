import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { ObservabilityConfig } from "../../config/observability.ts";
import type { Logger } from "../logger.ts";
import { ErrorTailProcessor } from "./error-tail.ts";
import { RatioOrRecordSampler } from "./sampler.ts";
import type { ServiceIdentity, Tracing } from "./tracing.ts";

/** The OpenTelemetry SDK set up for one process (imported by tracing.ts only when tracing is on). */
export function startTracing(
  config: ObservabilityConfig["tracing"] & { tracesUrl: string },
  service: ServiceIdentity,
  logger: Logger,
): Tracing {
  const exporter = new OTLPTraceExporter({
    url: config.tracesUrl,
    headers: { ...config.headers },
    timeoutMillis: 5_000,
  });
  let warned = 0;
  const onExportError = (err: unknown) => {
    // One line per minute at most: a receiver that is down must not flood the log.
    if (Date.now() - warned < 60_000) return;
    warned = Date.now();
    logger.warn({ err: String(err) }, "trace export failed");
  };
  const batch = new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: 4_096 });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": config.serviceName ?? service.name,
      "service.version": service.version,
      "deployment.environment.name": service.environment,
    }),
    sampler: new RatioOrRecordSampler(config.sampleRatio),
    spanProcessors: [new ErrorTailProcessor(batch, exporter, onExportError)],
  });
  const tracer = provider.getTracer("plant-community");
  return {
    tracer,
    flush: () => provider.forceFlush({ timeoutMillis: 5_000 }).catch(onExportError),
    async shutdown() {
      await Promise.race([provider.shutdown().catch(onExportError), Bun.sleep(5_000)]);
    },
  };
}
