import { describe, expect, test } from "bun:test";
import {
  isProviderOutage,
  ProviderError,
  parseRetryAfter,
} from "../../src/infra/providers/provider-error.ts";

const httpError = (status: number) => new ProviderError("plantnet", "http", `HTTP ${status}`, { status });

describe("isProviderOutage", () => {
  test("timeouts, network errors and unreadable answers are outages", () => {
    for (const kind of ["timeout", "network", "invalid_response"] as const) {
      expect(isProviderOutage(new ProviderError("plant-id", kind, kind))).toBe(true);
    }
  });

  test("5xx, 429 and a rejected key (401, 403) are outages", () => {
    for (const status of [500, 502, 503, 504, 429, 401, 403])
      expect(isProviderOutage(httpError(status))).toBe(true);
  });

  test("other 4xx answers are caused by our input and are not outages", () => {
    for (const status of [400, 404, 413, 414, 422]) expect(isProviderOutage(httpError(status))).toBe(false);
  });

  test("an error the client did not classify, such as a raw AbortError, counts as an outage", () => {
    expect(isProviderOutage(new DOMException("aborted", "AbortError"))).toBe(true);
  });
});

describe("parseRetryAfter", () => {
  test("reads delta-seconds and HTTP dates, and ignores garbage", () => {
    const now = Date.parse("2026-11-27T10:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Fri, 27 Nov 2026 10:01:00 GMT", now)).toBe(60);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
