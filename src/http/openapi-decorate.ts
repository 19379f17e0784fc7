/**
 * Facts that hold for many operations at once, written into the generated document in one place so that it
 * says what the server really sends (issue #12): the headers of 401/429/503 and of every /v1 answer, 413 on
 * every operation with a body, the cache policy each route contract declares (`x-cache-policy`, see
 * http/cache-policy.ts), and response enums marked open.
 */
import { CACHE_POLICY_EXTENSION, type CachePolicy } from "./cache-policy.ts";
import { PROBLEM_CONTENT_TYPE } from "./errors.ts";

type Json = Record<string, unknown>;
type Response = { description: string; headers?: Json; content?: Record<string, { schema?: Json }> };
type Operation = {
  security?: Record<string, string[]>[];
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Response>;
  [CACHE_POLICY_EXTENSION]?: CachePolicy;
};
type Document = { paths?: Record<string, Record<string, Operation>>; components?: Json & { headers?: Json } };

const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });

const HEADERS: Record<string, Json> = {
  XRequestId: {
    description:
      "This request's id (also `requestId` in problem documents); quote it when reporting a problem.",
    schema: { type: "string" },
  },
  RateLimit: {
    description:
      "Remaining quota of the endpoint's policy (IETF draft-ietf-httpapi-ratelimit-headers), e.g. " +
      '`"default";r=599;t=42`. Absent when the limiter is briefly unavailable.',
    schema: { type: "string" },
  },
  RateLimitPolicy: {
    description: 'The endpoint\'s policy: quota `q` per window `w` seconds, e.g. `"default";q=600;w=60`.',
    schema: { type: "string" },
  },
  RetryAfter: {
    description: "Seconds to wait before retrying.",
    required: true,
    schema: { type: "integer", minimum: 0 },
  },
  WWWAuthenticate: {
    description:
      'RFC 6750 challenge: `Bearer realm="plant-community"` without credentials; with `error="invalid_token"` ' +
      "when the credential sent was refused (`token_expired`: refresh; `invalid_token`: sign in again).",
    required: true,
    schema: { type: "string" },
  },
  ETag: {
    description: "Strong validator of the representation; send it back as `If-None-Match` to revalidate.",
    required: true,
    schema: { type: "string" },
  },
};

const IF_NONE_MATCH = {
  name: "If-None-Match",
  in: "header",
  required: false,
  description: "The `ETag` of the copy you hold: 304 without a body when it is still current.",
  schema: { type: "string" },
};

export function decorateDocument(doc: Document) {
  doc.components ??= {};
  const components = doc.components;
  components.headers = { ...(components.headers ?? {}), ...HEADERS };
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) decorateOperation(path, method, op);
  }
  markResponseEnumsOpen(doc);
}

function decorateOperation(path: string, method: string, op: Operation) {
  const limited = path.startsWith("/v1/");
  if (op.requestBody && !op.responses["413"]) {
    op.responses["413"] = {
      description: "The request body is too large.",
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: "#/components/schemas/Problem" } } },
    };
  }
  const policy = op[CACHE_POLICY_EXTENSION];
  const needsCredentials =
    (op.security ?? []).length > 0 && op.security!.every((r) => Object.keys(r).length > 0);
  if (policy?.etag && method === "get") {
    op.parameters = [...(op.parameters ?? []), IF_NONE_MATCH];
    op.responses["304"] = { description: "Not modified: the copy you hold (`If-None-Match`) is current." };
  }
  for (const [status, response] of Object.entries(op.responses)) {
    const headers: Json = { "X-Request-Id": ref("XRequestId"), ...(response.headers ?? {}) };
    if (limited) {
      headers.RateLimit = ref("RateLimit");
      headers["RateLimit-Policy"] = ref("RateLimitPolicy");
    }
    const location = headers.Location as { schema?: Json } | undefined;
    // Absolute: PUBLIC_BASE_URL, else the request's origin (http/middleware/absolute-urls.ts).
    if (location?.schema) location.schema = { ...location.schema, format: "uri" };
    if (status === "429" || status === "503") headers["Retry-After"] = ref("RetryAfter");
    // A refused credential is challenged; a wrong password or refresh token (public operations) is not.
    if (status === "401" && needsCredentials) headers["WWW-Authenticate"] = ref("WWWAuthenticate");
    const ok = status.startsWith("2") || status === "304";
    if (policy && ok) {
      headers["Cache-Control"] = {
        description: `How clients and caches may keep this answer: \`${policy.cacheControl}\`.`,
        schema: { type: "string", example: policy.cacheControl },
      };
      if (policy.etag && method === "get" && (status === "200" || status === "304"))
        headers.ETag = ref("ETag");
    }
    response.headers = headers;
  }
}

/**
 * Response enums are open: a value may be added later, and apps already shipped must not fail to decode it.
 * Written as `anyOf: [{enum: [...]}, {type: string}]`, the form OpenAI's and others' documents use and that
 * TypeScript, Swift and Kotlin generators turn into "one of these, or another string". Schemas a request also
 * uses keep a closed enum (the server refuses other values).
 */
function markResponseEnumsOpen(doc: Document) {
  const schemas = (doc.components?.schemas ?? {}) as Record<string, Json>;
  const requestSide = new Set<string>();
  const responseSide = new Set<string>();
  const collect = (node: unknown, into: Set<string>) => {
    if (Array.isArray(node)) for (const n of node) collect(n, into);
    else if (node && typeof node === "object") {
      const r = (node as Json).$ref;
      if (typeof r === "string" && r.startsWith("#/components/schemas/")) {
        const name = r.slice("#/components/schemas/".length);
        if (!into.has(name)) {
          into.add(name);
          collect(schemas[name], into);
        }
      }
      for (const v of Object.values(node)) collect(v, into);
    }
  };
  const inlineResponses: Json[] = [];
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item)) {
      collect(op.parameters, requestSide);
      collect(op.requestBody, requestSide);
      collect(op.responses, responseSide);
      for (const r of Object.values(op.responses))
        for (const c of Object.values(r.content ?? {})) if (c.schema) inlineResponses.push(c.schema);
    }
  }
  for (const name of responseSide) if (!requestSide.has(name) && schemas[name]) openEnums(schemas[name]);
  for (const schema of inlineResponses) openEnums(schema);
}

function openEnums(node: unknown) {
  if (Array.isArray(node)) {
    for (const n of node) openEnums(n);
    return;
  }
  if (!node || typeof node !== "object" || "$ref" in node) return;
  const schema = node as Json;
  if (schema.type === "string" && Array.isArray(schema.enum) && schema.enum.length > 1) {
    const values = schema.enum;
    delete schema.type;
    delete schema.enum;
    schema.anyOf = [{ type: "string", enum: values }, { type: "string" }];
    schema["x-open-enum"] = true;
    const note = "Open: values may be added; accept ones not listed here.";
    schema.description = schema.description ? `${schema.description} ${note}` : note;
    return;
  }
  for (const v of Object.values(schema)) openEnums(v);
}
