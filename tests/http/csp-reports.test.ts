import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FakeClock } from "../../src/infra/clock.ts";
import { CspViolationsSummarySchema } from "../../src/modules/csp-reports/csp-reports.schemas.ts";
import { createCspReportsService, utcDay } from "../../src/modules/csp-reports/csp-reports.service.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { ipHeader, registerUser, testIp } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";
import { waitForReplicaReplay } from "../helpers/replica.ts";
import { metricValue } from "../observability/metric-value.ts";

let app: TestApp;
beforeAll(async () => {
  app = await createTestApp({ RATE_LIMIT_CSP_REPORT: "1000/1m" });
});
afterAll(() => app.close());

/** A unique origin per call, so a test finds exactly its own aggregate rows in the shared database. */
const uniqueOrigin = () => `https://cdn-${crypto.randomUUID().slice(0, 8)}.example.test`;

function reportUri(blocked: string, extra: Record<string, unknown> = {}) {
  return {
    "csp-report": {
      "document-uri": "https://plant.community/v1/docs?token=secret#frag",
      referrer: "",
      "violated-directive": "img-src",
      "effective-directive": "img-src",
      "original-policy": "default-src 'none'; img-src 'self'; report-uri /v1/security/csp-reports",
      disposition: "enforce",
      "blocked-uri": `${blocked}/tracker.png?user=alice@example.com`,
      "status-code": 200,
      ...extra,
    },
  };
}

function post(body: unknown, contentType: string, path = "/v1/security/csp-reports", ip = testIp()) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": contentType, "user-agent": "TestBrowser/1.0", ...ipHeader(app, ip) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function rowsFor(blockedOrigin: string) {
  return app.deps.db.primary
    .selectFrom("csp_violations_daily")
    .selectAll()
    .where("blocked_origin", "=", blockedOrigin)
    .execute();
}

describe("POST /v1/security/csp-reports", () => {
  test("a report-uri report is counted per day, without query strings, fragments or paths of the blocked URL", async () => {
    const origin = uniqueOrigin();
    const before = await metricValue(app.deps.metrics.registry, "csp_violations_total", {
      directive: "img-src",
    });
    for (let i = 0; i < 2; i++) {
      const res = await post(reportUri(origin), "application/csp-report");
      expect(res.status).toBe(204);
      expect(await res.text()).toBe("");
    }
    const rows = await rowsFor(origin);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      directive: "img-src",
      document_path: "/v1/docs",
      source_file: "",
      line: 0,
      disposition: "enforce",
      count: "2",
    });
    expect(rows[0]!.sample).toMatchObject({
      format: "csp-report",
      userAgent: "TestBrowser/1.0",
      statusCode: 200,
    });
    expect(JSON.stringify(rows[0])).not.toContain("alice");
    expect(JSON.stringify(rows[0])).not.toContain("secret");
    expect(
      await metricValue(app.deps.metrics.registry, "csp_violations_total", { directive: "img-src" }),
    ).toBe(before + 2);
  });

  test("a Reporting API batch is aggregated; reports of other types in it are ignored", async () => {
    const origin = uniqueOrigin();
    const violation = {
      type: "csp-violation",
      age: 10,
      url: "https://plant.community/v1/docs?x=1",
      user_agent: "Chrome/156",
      body: {
        documentURL: "https://plant.community/v1/docs?x=1",
        blockedURL: `${origin}/a.js?q=1`,
        effectiveDirective: "script-src-elem",
        originalPolicy: "script-src 'nonce-abc'",
        sourceFile: "https://plant.community/v1/docs/scalar.js?v=2#L1",
        lineNumber: 12,
        columnNumber: 3,
        disposition: "report",
        statusCode: 200,
        sample: "",
      },
    };
    const deprecation = { type: "deprecation", age: 1, url: "https://plant.community/", body: { id: "x" } };
    const res = await post([violation, violation, deprecation], "application/reports+json");
    expect(res.status).toBe(204);
    const rows = await rowsFor(origin);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      directive: "script-src-elem",
      source_file: "https://plant.community/v1/docs/scalar.js",
      line: 12,
      disposition: "report",
      count: "2",
    });
    expect(rows[0]!.sample).toMatchObject({ format: "reports+json", userAgent: "Chrome/156", column: 3 });
  });

  test("an unknown directive is counted as other, so the metric's labels stay bounded", async () => {
    const origin = uniqueOrigin();
    const res = await post(
      reportUri(origin, { "effective-directive": "made-up-src", "violated-directive": "made-up-src" }),
      "application/csp-report",
    );
    expect(res.status).toBe(204);
    expect((await rowsFor(origin))[0]?.directive).toBe("other");
  });

  test("a violation type never seen before is counted once in csp_violation_new_types_total", async () => {
    const origin = uniqueOrigin();
    const before = await metricValue(app.deps.metrics.registry, "csp_violation_new_types_total");
    expect((await post(reportUri(origin), "application/csp-report")).status).toBe(204);
    expect((await post(reportUri(origin), "application/csp-report")).status).toBe(204);
    expect(await metricValue(app.deps.metrics.registry, "csp_violation_new_types_total")).toBe(before + 1);
  });

  test("a body that is not JSON is a 400 malformed_body", async () => {
    await expectProblem(await post("{not json", "application/csp-report"), 400, "malformed_body");
  });

  test("JSON of the wrong shape is a 400 validation_failed naming the field", async () => {
    const res = await post({ "csp-report": { "blocked-uri": 5 } }, "application/csp-report");
    const problem = await expectProblem(res, 400, "validation_failed");
    expect(problem.errors?.map((e) => e.path)).toContain("body.csp-report.document-uri");
    const batch = await post(
      [{ type: "csp-violation", url: "https://x/", body: {} }],
      "application/reports+json",
    );
    const batchProblem = await expectProblem(batch, 400, "validation_failed");
    expect(batchProblem.errors?.map((e) => e.path)).toContain("body.0.body.documentURL");
    await expectProblem(await post([], "application/reports+json"), 400, "validation_failed");
  });

  test("other media types are a 415", async () => {
    for (const type of ["application/json", "text/plain", "application/x-www-form-urlencoded"]) {
      await expectProblem(await post(reportUri(uniqueOrigin()), type), 415, "unsupported_media_type");
    }
  });

  test("a body over 64 KB is a 413, whether its length is declared or it streams in chunks", async () => {
    const big = JSON.stringify(reportUri(uniqueOrigin(), { "script-sample": "x".repeat(70_000) }));
    await expectProblem(await post(big, "application/csp-report"), 413, "payload_too_large");
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode(" ".repeat(5_000)));
        controller.close();
      },
    });
    const res = await app.request("/v1/security/csp-reports", {
      method: "POST",
      headers: { "content-type": "application/csp-report", "transfer-encoding": "chunked" },
      body: chunks,
    });
    await expectProblem(res, 413, "payload_too_large");
  });

  test("the old path /api/security/csp-report/ is served in place (no redirect), with or without its slash", async () => {
    for (const path of ["/api/security/csp-report/", "/api/security/csp-report"]) {
      const origin = uniqueOrigin();
      const res = await post(reportUri(origin), "application/csp-report", path);
      expect(res.status).toBe(204);
      expect(res.headers.get("deprecation")).toMatch(/^@\d+$/);
      expect(res.headers.get("link")).toBe('</v1/security/csp-reports>; rel="successor-version"');
      expect((await rowsFor(origin))[0]?.count).toBe("1");
    }
    await expectProblem(
      await post("nope", "text/plain", "/api/security/csp-report/"),
      415,
      "unsupported_media_type",
    );
  });
});

describe("the per-IP limit on reports", () => {
  test("refuses the reports past RATE_LIMIT_CSP_REPORT from one IP with 429 and Retry-After, on both paths", async () => {
    const limited = await createTestApp({ RATE_LIMIT_CSP_REPORT: "2/1m" });
    try {
      const ip = testIp();
      const send = (path: string) =>
        limited.request(path, {
          method: "POST",
          headers: { "content-type": "application/csp-report", ...ipHeader(limited, ip) },
          body: JSON.stringify(reportUri(uniqueOrigin())),
        });
      for (const path of ["/v1/security/csp-reports", "/api/security/csp-report/"]) {
        expect((await send(path)).status).toBe(204);
        expect((await send(path)).status).toBe(204);
        const res = await send(path);
        await expectProblem(res, 429, "rate_limited");
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      }
    } finally {
      await limited.close();
    }
  });
});

describe("GET /v1/admin/security/csp-violations", () => {
  // manifest-src is reported by no other test: the window's figures are this test's own.
  const directive = "manifest-src";
  const today = utcDay(Date.now());
  const dayMs = (daysAgo: number) => Date.parse(`${today}T12:00:00Z`) - daysAgo * 86_400_000;
  const [frequent, rare] = [uniqueOrigin(), uniqueOrigin()];

  beforeAll(async () => {
    const clock = new FakeClock(dayMs(2));
    const service = createCspReportsService({ ...app.deps, clock });
    const report = (origin: string) =>
      new TextEncoder().encode(
        JSON.stringify(
          reportUri(origin, { "effective-directive": directive, "violated-directive": directive }),
        ),
      );
    for (let i = 0; i < 3; i++) await service.ingest("application/csp-report", report(frequent), "UA");
    clock.advance(2 * 86_400_000); // today
    await service.ingest("application/csp-report", report(frequent), "UA");
    await service.ingest("application/csp-report", report(rare), "UA");
    // The admin view reads from the replica: start once it has replayed these rows.
    await waitForReplicaReplay(app.deps);
  });

  async function summary(query: string, headers: Record<string, string>) {
    const res = await app.request(`/v1/admin/security/csp-violations?${query}`, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    return CspViolationsSummarySchema.parse(await res.json());
  }

  test("gives an admin the top groups over the window and the trend per day, filtered by directive", async () => {
    const admin = await registerUser(app, { role: "admin" });
    const body = await summary(`days=3&directive=${directive}`, admin.headers);
    expect(body).toMatchObject({ directive, from: utcDay(dayMs(2)), to: today, total: 5 });
    expect(body.trend).toEqual([
      { day: utcDay(dayMs(2)), count: 3 },
      { day: utcDay(dayMs(1)), count: 0 },
      { day: today, count: 2 },
    ]);
    expect(body.top.map((g) => [g.blockedOrigin, g.count])).toEqual([
      [frequent, 4],
      [rare, 1],
    ]);
    expect(body.top[0]).toMatchObject({ directive, documentPath: "/v1/docs", disposition: "enforce" });
    expect(Date.parse(body.top[0]!.firstSeen)).toBeLessThan(Date.parse(body.top[0]!.lastSeen));

    const top1 = await summary(`days=1&directive=${directive}&limit=1`, admin.headers);
    expect(top1.total).toBe(2);
    expect(top1.top).toHaveLength(1);
  });

  test("is for admins only (401 without credentials, 403 for a member) and checks its query", async () => {
    await expectProblem(await app.request("/v1/admin/security/csp-violations"), 401, "unauthenticated");
    const member = await registerUser(app);
    await expectProblem(
      await app.request("/v1/admin/security/csp-violations", { headers: member.headers }),
      403,
      "insufficient_scope",
    );
    const admin = await registerUser(app, { role: "admin" });
    for (const bad of ["days=0", "days=91", "directive=nope", "limit=1000"]) {
      await expectProblem(
        await app.request(`/v1/admin/security/csp-violations?${bad}`, { headers: admin.headers }),
        400,
        "validation_failed",
      );
    }
  });
});
