import { SpanStatusCode } from "@opentelemetry/api";
import type { z } from "zod";
import { withTraceparent } from "../trace-context.ts";
import { SpanKind, withSpan } from "../tracing/spans.ts";
import { isAbortError, ProviderError, type ProviderName, parseRetryAfter } from "./provider-error.ts";

/** Narrower than `typeof fetch` so tests can pass a plain function; the global fetch fits it. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Turns anything thrown while talking to a provider into a ProviderError.
 * The raw error is not kept as `cause`: Bun's network errors carry the request URL, and PlantNet's URL
 * carries our API key, which must never reach a log line.
 */
export function toProviderError(provider: ProviderName, err: unknown, signal: AbortSignal): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal.aborted || isAbortError(err)) {
    return new ProviderError(provider, "timeout", "request aborted by the caller's deadline");
  }
  const code = (err as { code?: unknown } | null)?.code;
  const label = typeof code === "string" ? code : err instanceof Error ? err.name : "unknown";
  return new ProviderError(provider, "network", `request failed (${label})`);
}

export async function sendProviderRequest(
  provider: ProviderName,
  fetchFn: FetchLike,
  url: string,
  init: RequestInit,
  signal: AbortSignal,
): Promise<Response> {
  if (signal.aborted) throw toProviderError(provider, signal.reason, signal);
  // The HTTP client span (tracing on): its id is the `traceparent` the provider receives. Only the host is
  // recorded: PlantNet's URL carries our API key in its query.
  return withSpan(
    `${init.method ?? "GET"} ${provider}`,
    {
      "plant.provider": provider,
      "http.request.method": init.method ?? "GET",
      "server.address": hostOf(url),
    },
    async (span) => {
      try {
        const res = await fetchFn(url, { ...init, headers: withTraceparent(init.headers), signal });
        span?.setAttribute("http.response.status_code", res.status);
        if (res.status >= 500) span?.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.status}` });
        return res;
      } catch (err) {
        throw toProviderError(provider, err, signal);
      }
    },
    SpanKind.CLIENT,
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "invalid";
  }
}

/** The body can still be streaming when the deadline fires, so reading it is part of the guarded call. */
export async function readBodyText(
  provider: ProviderName,
  res: Response,
  signal: AbortSignal,
): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    throw toProviderError(provider, err, signal);
  }
}

export async function readJsonBody(
  provider: ProviderName,
  res: Response,
  signal: AbortSignal,
): Promise<unknown> {
  const text = await readBodyText(provider, res, signal);
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError(provider, "invalid_response", `HTTP ${res.status} answer is not JSON`, {
      status: res.status,
    });
  }
}

/**
 * Builds the error for a non-2xx answer; a short body excerpt helps whoever reads the log.
 * Pass `bodyText` when the body was already read.
 */
export async function httpStatusError(
  provider: ProviderName,
  res: Response,
  bodyText?: string,
): Promise<ProviderError> {
  const text = bodyText ?? (await res.text().catch(() => ""));
  const excerpt = text.slice(0, 200);
  return new ProviderError(provider, "http", `HTTP ${res.status}${excerpt ? `: ${excerpt}` : ""}`, {
    status: res.status,
    retryAfterSeconds: parseRetryAfter(res.headers.get("retry-after")),
  });
}

export function parseWireBody<T>(
  provider: ProviderName,
  schema: z.ZodType<T>,
  body: unknown,
  status: number,
): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
  throw new ProviderError(provider, "invalid_response", `unexpected answer shape (${where})`, { status });
}
