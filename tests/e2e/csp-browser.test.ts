/**
 * A real browser (Debian's headless Chromium) on the API's own docs page: markup injected into the page, as an
 * XSS would, runs into the page's policy; Chromium reports it, and the reports end up aggregated in PostgreSQL.
 * Over https Chromium uses the Reporting API (`report-to`, application/reports+json); over plain http the page
 * names only `report-uri` (application/csp-report). One app serves both listeners.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { type Chromium, type Page, selfSignedCert, startChromium } from "../helpers/servers/chromium.ts";

// Scalar's bundle is a few MB of JavaScript: on a loaded machine one page load has taken ~20 s.
const BROWSER_DEADLINE_MS = 60_000;

let app: TestApp;
let chromium: Chromium;
let https: Bun.Server<undefined>;
let http: Bun.Server<undefined>;
/** Other origins the injected images point at: one per page, so each page's reports are told apart. */
let foreignA: Bun.Server<undefined>;
let foreignB: Bun.Server<undefined>;

beforeAll(async () => {
  const cert = await selfSignedCert();
  app = await createTestApp();
  const serve = app.serve!;
  https = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: cert.cert, key: cert.key },
    fetch: serve,
  });
  http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: serve });
  const pixel = () => new Response("not an image", { headers: { "content-type": "image/png" } });
  foreignA = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: pixel });
  foreignB = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: pixel });
  chromium = await startChromium({ extraArgs: [cert.chromiumFlag] });
}, 60_000);

afterAll(async () => {
  await chromium?.stop();
  for (const server of [https, http, foreignA, foreignB]) server?.stop(true);
  await app?.close();
});

/**
 * Rewrites the loaded page with markup the policy forbids: an inline script without the nonce, and an image
 * from another origin. Chromium reports the inline script at the line of the document.write call, so
 * `callLine` gives each page's inline violation a line (and an aggregation row) of its own.
 */
function injectViolations(page: Page, imageOrigin: string, callLine: number) {
  const markup = `<!doctype html><script>window.injected = true</' + 'script><img src="${imageOrigin}/pixel.png">`;
  return page.evaluate<boolean>(
    `${"\n".repeat(callLine - 1)}(() => { document.open(); document.write('${markup}'); document.close(); return window.injected === true; })()`,
  );
}

async function violationRow(directive: string, blockedOrigin: string, line?: number) {
  let q = app.deps.db.primary
    .selectFrom("csp_violations_daily")
    .selectAll()
    .where("directive", "=", directive)
    .where("blocked_origin", "=", blockedOrigin)
    .where("document_path", "=", "/v1/docs");
  if (line !== undefined) q = q.where("line", "=", line);
  return q.executeTakeFirst();
}

async function reportsCounted(format: string): Promise<number> {
  const metric = await app.deps.metrics.registry.getSingleMetric("csp_reports_total")?.get();
  return metric?.values.find((v) => v.labels.format === format)?.value ?? 0;
}

async function openDocs(url: string): Promise<Page> {
  const page = await chromium.newPage();
  await page.goto(url, BROWSER_DEADLINE_MS);
  // The reference rendered under the nonce policy: Scalar's bundle ran and drew the API's title.
  await waitFor(() => page.evaluate<boolean>(`document.body.innerText.includes("Plant Community API")`), {
    timeoutMs: BROWSER_DEADLINE_MS,
    what: "the docs page to render",
  });
  return page;
}

describe("CSP violations from a real Chromium on the docs page", () => {
  test("over https, the Reporting API's batch arrives and the script and image violations are aggregated", async () => {
    const url = `https://127.0.0.1:${https.port}/v1/docs`;
    const headers = (await fetch(url, { tls: { rejectUnauthorized: false } })).headers;
    expect(headers.get("content-security-policy")).toContain("report-to csp-endpoint");
    expect(headers.get("reporting-endpoints")).toBe('csp-endpoint="/v1/security/csp-reports"');

    const page = await openDocs(url);
    const foreignOrigin = `http://127.0.0.1:${foreignA.port}`;
    expect(await injectViolations(page, foreignOrigin, 3)).toBe(false); // blocked: it never ran

    const [script, image] = await waitFor(
      async () => {
        const rows = await Promise.all([
          violationRow("script-src-elem", "inline", 3),
          violationRow("img-src", foreignOrigin),
        ]);
        return rows.every(Boolean) ? rows : undefined;
      },
      { timeoutMs: BROWSER_DEADLINE_MS, what: "both violations aggregated" },
    ).then((rows) => rows ?? []);
    for (const row of [script, image]) {
      expect(row?.sample).toMatchObject({
        format: "reports+json",
        userAgent: expect.stringContaining("Chrome"),
      });
      expect(row?.disposition).toBe("enforce");
      expect(Number(row?.count)).toBeGreaterThanOrEqual(1);
    }
    expect(await reportsCounted("reports+json")).toBeGreaterThanOrEqual(1);
  }, 180_000);

  test("over plain http, report-uri posts arrive one by one and are aggregated the same way", async () => {
    const url = `http://127.0.0.1:${http.port}/v1/docs`;
    const headers = (await fetch(url)).headers;
    expect(headers.get("content-security-policy")).toContain("report-uri /v1/security/csp-reports");
    expect(headers.get("content-security-policy")).not.toContain("report-to");
    expect(headers.get("reporting-endpoints")).toBeNull();

    const page = await openDocs(url);
    const foreignOrigin = `http://127.0.0.1:${foreignB.port}`;
    expect(await injectViolations(page, foreignOrigin, 4)).toBe(false);

    const [script, image] = await waitFor(
      async () => {
        const rows = await Promise.all([
          violationRow("script-src-elem", "inline", 4),
          violationRow("img-src", foreignOrigin),
        ]);
        return rows.every(Boolean) ? rows : undefined;
      },
      { timeoutMs: BROWSER_DEADLINE_MS, what: "both violations aggregated" },
    ).then((rows) => rows ?? []);
    for (const row of [script, image]) expect(row?.sample).toMatchObject({ format: "csp-report" });
    expect(await reportsCounted("csp-report")).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
