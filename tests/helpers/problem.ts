import { expect } from "bun:test";
import { ProblemSchema } from "../../src/http/openapi.ts";

/** Asserts an RFC 9457 problem answer and returns it parsed with the document's own schema. */
export async function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = ProblemSchema.parse(await res.json());
  expect(body.status).toBe(status);
  expect(body.code).toBe(code as never);
  expect(body.requestId).toBe(res.headers.get("x-request-id")!);
  return body;
}
