import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { requestLine } from "../../src/http/middleware/logging.ts";
import { createLogger } from "../../src/infra/logger.ts";
import { SpeciesPageSchema } from "../../src/modules/species/species.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";

const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { logger: createLogger("info", sink) });
});
afterAll(() => t.close());

const requestLines = (requestId: string) =>
  lines.filter((l) => l.requestId === requestId && l.message === "request");

describe("request logs", () => {
  test("each request writes one JSON line with its id, route pattern, status and duration", async () => {
    const list = SpeciesPageSchema.parse(await (await t.request("/v1/species?limit=1")).json());
    const id = list.data[0]!.id;
    const res = await t.request(`/v1/species/${id}`, { headers: { "x-request-id": "log-test-0001" } });
    expect(res.status).toBe(200);
    const [line, ...more] = requestLines("log-test-0001");
    expect(more).toHaveLength(0);
    expect(line).toMatchObject({ level: "info", method: "GET", route: "/v1/species/:id", status: 200 });
    expect(line!.durationMs).toBeNumber();
    expect(line!.time).toBeString();
    expect(JSON.stringify(line)).not.toContain(id);
  });

  test("an unmatched path is logged under one pattern, not the raw path", async () => {
    await t.request("/v1/secret-path-1234", { headers: { "x-request-id": "log-test-0002" } });
    const [line] = requestLines("log-test-0002");
    expect(line).toMatchObject({ route: "unmatched", status: 404 });
    expect(JSON.stringify(line)).not.toContain("secret-path-1234");
  });

  test("the request line written directly is the line pino writes for it, field for field and in order", () => {
    const written: string[] = [];
    const pinoLog = createLogger("info", { write: (chunk: string) => void written.push(chunk) });
    const fields = {
      requestId: "log-test-0003",
      method: "GET",
      route: "/v1/species/:id",
      status: 200,
      durationMs: 0.25,
      userId: undefined,
      traceId: 'a"b\\c',
    };
    pinoLog.info(fields, "request");
    const withoutTime = (line: string) => line.replace(/,"time":"[^"]+"/, "");
    expect(written).toHaveLength(1);
    expect(withoutTime(requestLine(fields))).toBe(withoutTime(written[0]!));
    expect(JSON.parse(requestLine(fields)).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
