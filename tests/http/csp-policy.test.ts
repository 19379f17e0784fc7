import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cspNonce, htmlPage } from "../../src/http/csp.ts";
import { createRouter } from "../../src/http/router.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";

const TRIAL = "script-src {nonce}; require-trusted-types-for 'script'";
let plain: TestApp;
let behindTls: TestApp;
beforeAll(async () => {
  plain = await createTestApp();
  behindTls = await createTestApp({
    PUBLIC_BASE_URL: "https://api.plant.test",
    CSP_REPORT_ONLY_POLICY: TRIAL,
  });
});
afterAll(async () => {
  await plain.close();
  await behindTls.close();
});

const nonceOf = (csp: string | null) => /'nonce-([^']+)'/.exec(csp ?? "")?.[1];

describe("htmlPage: the CSP of every HTML answer", () => {
  test("on a plain-http origin it reports through report-uri only (Chromium would drop report-to there)", async () => {
    const res = await plain.request("/v1/docs");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("report-uri /v1/security/csp-reports");
    expect(csp).not.toContain("report-to");
    expect(res.headers.get("reporting-endpoints")).toBeNull();
    expect(res.headers.get("content-security-policy-report-only")).toBeNull();
  });

  test("behind TLS (PUBLIC_BASE_URL https) it adds report-to, Reporting-Endpoints and the report-only trial policy with the same nonce", async () => {
    const res = await behindTls.request("/v1/docs");
    const csp = res.headers.get("content-security-policy");
    expect(csp).toContain("report-uri /v1/security/csp-reports; report-to csp-endpoint");
    expect(res.headers.get("reporting-endpoints")).toBe('csp-endpoint="/v1/security/csp-reports"');
    const trial = res.headers.get("content-security-policy-report-only");
    expect(trial).toBe(
      `script-src 'nonce-${nonceOf(csp)}'; require-trusted-types-for 'script'; ` +
        "report-uri /v1/security/csp-reports; report-to csp-endpoint",
    );
  });

  test("a new HTML route gets a nonce, the base policy with its own directives and reporting from one call", async () => {
    const router = createRouter();
    router.use("*", async (c, next) => {
      c.set("deps", plain.deps);
      await next();
    });
    router.get("/page", htmlPage(plain.config, { "img-src": ["'self'", "https:"] }), (c) =>
      c.html(`<script nonce="${cspNonce(c)}">1</script>`),
    );
    const res = await router.request("/page");
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = nonceOf(csp);
    expect(await res.text()).toBe(`<script nonce="${nonce}">1</script>`);
    expect(csp).toContain(`script-src 'nonce-${nonce}' 'strict-dynamic'`);
    expect(csp).toContain("img-src 'self' https:;");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("report-uri /v1/security/csp-reports");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(nonce).not.toBe(nonceOf((await router.request("/page")).headers.get("content-security-policy")));
  });
});
