import { z } from "@hono/zod-openapi";
import { ERROR_CODES, type ErrorCode, PROBLEM_CONTENT_TYPE } from "./errors.ts";
import { text } from "./text.ts";

export const ProblemSchema = z
  .object({
    type: z.string().url().openapi({ example: "https://plant.community/problems/not-found" }),
    title: z.string().openapi({ example: "The resource was not found" }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().openapi({ example: "No species with this id." }),
    instance: z.string().openapi({ example: "/v1/species/0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).openapi({ example: "not_found" }),
    requestId: z.string().openapi({ example: "req_01J9Z3W4" }),
    traceId: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .optional()
      .openapi({
        example: "4bf92f3577b34da6a3ce929d0e0e4736",
        description: "W3C trace id of the request (as in its `traceparent` response header), for support.",
      }),
    errors: z
      .array(
        z.object({
          path: z.string().openapi({
            example: "json.email",
            description:
              "`<where>.<field>`: `json.` for a JSON body, `form.` for a multipart form, `query.`, `param.` " +
              "(path) or `header.`; nested fields by dots (`json.careInstructions.light`).",
          }),
          message: z.string(),
        }),
      )
      .optional()
      .openapi({ description: "Per-field messages, present on validation failures." }),
  })
  .openapi("Problem", { description: "RFC 9457 problem details." });

const describedStatuses = {
  400: "The request is invalid (see `errors`).",
  401: "Missing or invalid credentials.",
  403: "The credentials lack a required scope.",
  404: "The resource does not exist or is not yours.",
  409: "Conflict with the current state.",
  410: "Gone: the link or resource has expired.",
  413: "The request body is too large.",
  415: "Unsupported content type.",
  422: "The request cannot be processed.",
  429: "Too many requests; retry after `Retry-After` seconds.",
  500: "Unexpected error.",
  503: "Temporarily unavailable; retry after `Retry-After` seconds.",
} as const;

type DescribedStatus = keyof typeof describedStatuses;

export function problemResponse(status: DescribedStatus, description?: string) {
  return {
    description: description ?? describedStatuses[status],
    content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
  };
}

/** The error responses every /v1 route can produce, whatever it does. */
export function errorResponses<S extends DescribedStatus>(...statuses: S[]) {
  const all = [...new Set<DescribedStatus>([...statuses, 429, 500])];
  return Object.fromEntries(all.map((s) => [s, problemResponse(s)])) as Record<
    S | 429 | 500,
    ReturnType<typeof problemResponse>
  >;
}

/** Absolute (PUBLIC_BASE_URL, else the request's origin): see http/middleware/absolute-urls.ts. */
const AbsoluteUrl = z.string().url();

export const LinksSchema = z.object({ self: AbsoluteUrl }).openapi("Links");

export const PageLinksSchema = z
  .object({ self: AbsoluteUrl, next: AbsoluteUrl.nullable() })
  .openapi("PageLinks");

export const UuidParamSchema = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: "id", in: "path" }, example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
});

/** `limit` and `cursor` of every cursor-paginated list; extend it with the list's own filters. */
export function pageQuery(defaultLimit = 20) {
  return z.object({
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(100)
      .default(defaultLimit)
      .openapi({
        param: { name: "limit", in: "query" },
        example: defaultLimit,
        description: `Page size, 1 to 100 (default ${defaultLimit}).`,
      }),
    cursor: text()
      .max(512)
      .optional()
      .openapi({
        param: { name: "cursor", in: "query" },
        description: "The `nextCursor` of the previous page.",
      }),
  });
}

/**
 * A query flag documented as a real boolean (`?unread=true`): generators then type it `boolean`. Only the
 * words `true` and `false` are accepted.
 */
export function queryBoolean() {
  return z
    .preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean())
    .optional()
    .openapi({ type: "boolean" });
}

/** A query number documented as `number` (z.coerce would document `number | null`, and orval sends `null`). */
export function queryNumber(minimum: number, maximum: number) {
  return z.coerce.number().min(minimum).max(maximum).openapi({ type: "number", minimum, maximum });
}
