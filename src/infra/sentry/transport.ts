import pkg from "../../../package.json" with { type: "json" };
import type { SentryEvent } from "./event.ts";

/**
 * Sends events to Sentry (or a compatible server) as envelopes over HTTP, with nothing but `fetch`
 * (https://develop.sentry.dev/sdk/foundations/transport/envelopes/). This replaces @sentry/bun, which put about
 * 78 MB of modules into the image for the one thing we used it for (issue #11).
 */

export type Dsn = { endpoint: string; publicKey: string };

/** `scheme://key[:secret]@host[:port][/path]/project` -> `scheme://host[:port][/path]/api/project/envelope/`. */
export function parseDsn(dsn: string): Dsn {
  const url = new URL(dsn);
  const parts = url.pathname.split("/").filter((p) => p.length > 0);
  const project = parts.pop();
  if (!url.username || !project) throw new Error("SENTRY_DSN must look like https://<key>@<host>/<project>");
  const prefix = parts.length > 0 ? `/${parts.join("/")}` : "";
  return {
    endpoint: `${url.protocol}//${url.host}${prefix}/api/${project}/envelope/`,
    publicKey: decodeURIComponent(url.username),
  };
}

const CLIENT = `plant-community-api/${pkg.version}`;
// The SDK's own buffer is 64; with no retries a few dozen in flight is already an error storm.
const MAX_IN_FLIGHT = 30;
const SEND_TIMEOUT_MS = 10_000;
const DEFAULT_BACKOFF_S = 60;

/** Seconds to stay silent after a response, from `X-Sentry-Rate-Limits` or a 429's `Retry-After`; 0: none. */
export function backoffSeconds(res: Pick<Response, "status" | "headers">): number {
  const limits = res.headers.get("x-sentry-rate-limits");
  if (limits) {
    // `retry_after:categories:scope[:reason], ...`; no categories means all of them. We only send errors.
    let longest = 0;
    for (const limit of limits.split(",")) {
      const [after, categories = ""] = limit.trim().split(":");
      const cats = categories.split(";").filter((c) => c.length > 0);
      if (cats.length === 0 || cats.includes("error") || cats.includes("default"))
        longest = Math.max(longest, Number(after) || DEFAULT_BACKOFF_S);
    }
    return longest;
  }
  if (res.status === 429) return Number(res.headers.get("retry-after")) || DEFAULT_BACKOFF_S;
  return 0;
}

export type EventTransport = {
  /** Starts sending; returns false when the event was dropped (backing off, or too many in flight). */
  send(event: SentryEvent): boolean;
  /** Resolves true when everything in flight was sent within the time, false otherwise. */
  flush(timeoutMs: number): Promise<boolean>;
};

export function createEventTransport(dsn: Dsn, onFailure: (reason: string) => void): EventTransport {
  const inFlight = new Set<Promise<void>>();
  let silentUntil = 0;
  const auth = `Sentry sentry_version=7, sentry_key=${dsn.publicKey}, sentry_client=${CLIENT}`;

  async function post(event: SentryEvent): Promise<void> {
    const header = {
      event_id: event.event_id,
      sent_at: new Date().toISOString(),
      sdk: { name: "plant-community-api", version: pkg.version },
      // The dynamic sampling context: lets Sentry keep the error with the trace it belongs to.
      ...(event.contexts.trace
        ? {
            trace: {
              trace_id: event.contexts.trace.trace_id,
              public_key: dsn.publicKey,
              release: event.release,
              environment: event.environment,
            },
          }
        : {}),
    };
    const body = `${JSON.stringify(header)}\n${JSON.stringify({ type: "event" })}\n${JSON.stringify(event)}\n`;
    try {
      const res = await fetch(dsn.endpoint, {
        method: "POST",
        headers: { "content-type": "application/x-sentry-envelope", "x-sentry-auth": auth },
        body,
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
      const backoff = backoffSeconds(res);
      if (backoff > 0) silentUntil = Math.max(silentUntil, Date.now() + backoff * 1000);
      if (!res.ok) onFailure(`HTTP ${res.status}`);
    } catch (err) {
      onFailure(String(err));
    }
  }

  return {
    send(event) {
      if (Date.now() < silentUntil || inFlight.size >= MAX_IN_FLIGHT) return false;
      const sending = post(event).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      return true;
    },
    async flush(timeoutMs) {
      if (inFlight.size === 0) return true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const done = Promise.all([...inFlight]).then(() => true);
      try {
        return await Promise.race([done, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
