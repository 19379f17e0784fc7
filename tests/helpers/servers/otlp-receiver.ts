/**
 * An OTLP/HTTP trace receiver (JSON encoding, as OTEL_EXPORTER_OTLP_PROTOCOL=http/json sends it) on a random
 * loopback port: what a collector would receive, flattened to one record per span.
 */
export type ReceivedSpan = {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
};

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};
type KeyValue = { key: string; value: AnyValue };

export type OtlpReceiver = {
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** Requests that were not valid OTLP JSON (each a test failure waiting to be asserted). */
  readonly rejected: string[];
  stop(): Promise<void>;
};

function flatten(attributes: KeyValue[] | undefined): ReceivedSpan["attributes"] {
  const out: ReceivedSpan["attributes"] = {};
  for (const { key, value } of attributes ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
  }
  return out;
}

export function startOtlpReceiver(): OtlpReceiver {
  const spans: ReceivedSpan[] = [];
  const rejected: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || url.pathname !== "/v1/traces") return new Response(null, { status: 404 });
      if (!req.headers.get("content-type")?.startsWith("application/json")) {
        rejected.push(`content-type ${req.headers.get("content-type")}`);
        return new Response(null, { status: 415 });
      }
      try {
        const body = (await req.json()) as {
          resourceSpans: {
            resource?: { attributes?: KeyValue[] };
            scopeSpans: {
              spans: (Omit<ReceivedSpan, "service" | "attributes" | "statusCode"> & {
                attributes?: KeyValue[];
                status?: { code?: number };
              })[];
            }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const service = String(flatten(rs.resource?.attributes)["service.name"] ?? "");
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              spans.push({
                service,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                name: s.name,
                kind: s.kind,
                attributes: flatten(s.attributes),
                statusCode: s.status?.code ?? 0,
              });
            }
          }
        }
        return Response.json({});
      } catch (err) {
        rejected.push(String(err));
        return new Response(null, { status: 400 });
      }
    },
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    spans,
    rejected,
    stop: () => server.stop(true),
  };
}
