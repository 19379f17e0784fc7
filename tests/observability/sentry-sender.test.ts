/**
 * Our own Sentry envelope sender (src/infra/sentry/), against a real HTTP receiver: what an event carries, how it
 * authenticates, and how it behaves when the ingest limits us or does not answer. The events as the API and the
 * workers send them are covered by error-tracking.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { createErrorTracker } from "../../src/infra/error-tracking.ts";
import { createLogger } from "../../src/infra/logger.ts";
import { parseDsn } from "../../src/infra/sentry/transport.ts";
import { waitFor } from "../helpers/app.ts";
import { type SentryReceiver, startSentryReceiver } from "../helpers/servers/sentry-receiver.ts";

const receivers: SentryReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

function tracker(receiver: SentryReceiver) {
  const warnings: Record<string, unknown>[] = [];
  const logger = createLogger("info", {
    write: (line: string) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.level === "warn") warnings.push(entry);
    },
  });
  const errors = createErrorTracker(
    { dsn: receiver.dsn, environment: "test", release: "plant-community-api@sender-test" },
    "plant-community-api",
    logger,
  );
  return { errors, warnings };
}

function receiver(answer?: Parameters<typeof startSentryReceiver>[0]): SentryReceiver {
  const r = startSentryReceiver(answer);
  receivers.push(r);
  return r;
}

// Named functions, so the stack shows where the error came from.
function failDeepInOurCode(): never {
  throw new RangeError("photo dimensions out of range");
}
function callerInOurCode(): never {
  failDeepInOurCode();
}

describe("the Sentry envelope sender", () => {
  test("an event carries the error's type, message and stack, the frame that threw last and our frames in-app", async () => {
    const sentry = receiver();
    const { errors } = tracker(sentry);
    try {
      callerInOurCode();
    } catch (err) {
      errors.capture(err, { requestId: "req-stack" });
    }
    expect(await errors.flush(5_000)).toBe(true);

    const [event] = sentry.events;
    const exception = event?.exception?.values[0];
    expect(exception).toMatchObject({ type: "RangeError", value: "photo dimensions out of range" });
    const frames = exception?.stacktrace?.frames ?? [];
    expect(frames.at(-1)).toMatchObject({ function: "failDeepInOurCode", in_app: true });
    expect(frames.at(-2)).toMatchObject({ function: "callerInOurCode", in_app: true });
    expect(frames.at(-1)?.filename).toEndWith("tests/observability/sentry-sender.test.ts");
    expect(frames.at(-1)?.lineno).toBeGreaterThan(0);
    expect(event).toMatchObject({
      level: "error",
      platform: "node",
      server_name: "plant-community-api",
      release: "plant-community-api@sender-test",
      environment: "test",
      tags: { request_id: "req-stack" },
    });
    expect(Math.abs((event?.timestamp ?? 0) - Date.now() / 1000)).toBeLessThan(60);
  });

  test("the envelope authenticates with the DSN's public key, protocol version 7", async () => {
    const sentry = receiver();
    const { errors } = tracker(sentry);
    errors.capture(new Error("auth check"), {});
    expect(await errors.flush(5_000)).toBe(true);
    expect(sentry.auth).toHaveLength(1);
    expect(sentry.auth[0]).toContain("sentry_version=7");
    expect(sentry.auth[0]).toContain("sentry_key=publickey");
  });

  test("a thrown value that is not an Error is sent as a synthetic error without an invented stack", async () => {
    const sentry = receiver();
    const { errors } = tracker(sentry);
    errors.capture("a plain string was thrown", {});
    errors.capture({ code: 7, reason: "x" }, {});
    expect(await errors.flush(5_000)).toBe(true);
    const values = sentry.events
      .map((e) => e.exception?.values[0])
      .sort((a, b) => (a?.value ?? "").localeCompare(b?.value ?? ""));
    expect(values).toEqual([
      {
        type: "Error",
        value: "a plain string was thrown",
        mechanism: { type: "generic", handled: true, synthetic: true },
      },
      {
        type: "Error",
        value: "Non-Error exception captured with keys: code, reason",
        mechanism: { type: "generic", handled: true, synthetic: true },
      },
    ]);
  });

  test("after a 429 with Retry-After, nothing more is sent until that time, and one warning is logged", async () => {
    const sentry = receiver((i) =>
      i === 0 ? new Response(null, { status: 429, headers: { "retry-after": "60" } }) : undefined,
    );
    const { errors, warnings } = tracker(sentry);
    errors.capture(new Error("first, answered 429"), {});
    expect(await errors.flush(5_000)).toBe(true);
    for (let i = 0; i < 5; i++) errors.capture(new Error(`during the back-off ${i}`), {});
    expect(await errors.flush(5_000)).toBe(true);
    expect(sentry.raw).toHaveLength(1);
    expect(warnings.filter((w) => w.message === "error tracking failed")).toHaveLength(1);
  });

  test("X-Sentry-Rate-Limits for the error category stops sending; a limit on other categories does not", async () => {
    const otherCategory = receiver((i) =>
      i === 0
        ? new Response("{}", { headers: { "x-sentry-rate-limits": "60:transaction;span:key" } })
        : undefined,
    );
    const a = tracker(otherCategory).errors;
    a.capture(new Error("one"), {});
    expect(await a.flush(5_000)).toBe(true);
    a.capture(new Error("two"), {});
    expect(await a.flush(5_000)).toBe(true);
    expect(otherCategory.raw).toHaveLength(2);

    const errorCategory = receiver((i) =>
      i === 0
        ? new Response("{}", { headers: { "x-sentry-rate-limits": "60:error;transaction:key" } })
        : undefined,
    );
    const b = tracker(errorCategory).errors;
    b.capture(new Error("one"), {});
    expect(await b.flush(5_000)).toBe(true);
    b.capture(new Error("two"), {});
    expect(await b.flush(5_000)).toBe(true);
    expect(errorCategory.raw).toHaveLength(1);
  });

  test("capture returns at once while the ingest does not answer, and flush gives up at its deadline", async () => {
    let release: () => void = () => {};
    const held = new Promise<undefined>((resolve) => {
      release = () => resolve(undefined);
    });
    const sentry = receiver(() => held);
    const { errors } = tracker(sentry);
    // capture() is synchronous: reaching the next line while the ingest holds the request is the proof.
    errors.capture(new Error("the ingest hangs"), {});
    await waitFor(() => sentry.raw.length === 1, { timeoutMs: 10_000, what: "the envelope to arrive" });
    expect(await errors.flush(200)).toBe(false);
    release();
    expect(await errors.flush(5_000)).toBe(true);
  });
});

describe("the DSN", () => {
  test("a DSN with a path prefix posts under that prefix", () => {
    expect(parseDsn("https://abc123@sentry.example.com/relay/42")).toEqual({
      endpoint: "https://sentry.example.com/relay/api/42/envelope/",
      publicKey: "abc123",
    });
    expect(parseDsn("http://key@127.0.0.1:9000/7").endpoint).toBe("http://127.0.0.1:9000/api/7/envelope/");
  });

  test("the configuration refuses a SENTRY_DSN that is not a URL, or has no public key or project", () => {
    for (const dsn of ["https://sentry.example.com/42", "https://key@sentry.example.com/"]) {
      expect(() => parseConfig({ NODE_ENV: "test", SENTRY_DSN: dsn })).toThrow(/SENTRY_DSN: must look like/);
    }
    expect(() => parseConfig({ NODE_ENV: "test", SENTRY_DSN: "not a url" })).toThrow(
      /Invalid configuration:\n {2}SENTRY_DSN: /,
    );
    expect(
      parseConfig({ NODE_ENV: "test", SENTRY_DSN: "https://key@o1.ingest.sentry.io/42" }).errorTracking.dsn,
    ).toBe("https://key@o1.ingest.sentry.io/42");
  });
});
