/**
 * The mobile home screen (me + the 10 newest identifications with their species and care + the unread count)
 * as one GraphQL request, beside the REST round trips it replaces: GET /v1/me, /v1/identifications?limit=10 and
 * /v1/notifications?unread=true (one wave, in parallel), then GET /v1/species/{id} for each species shown
 * (a second wave). Latency is the screen's wall time; bytes are what crosses the wire (status line, headers and
 * body, both ways). The API runs as a real process on core 0, this client on core 1.
 */
import { jpeg } from "../tests/helpers/images.ts";
import { startIdentifyStack } from "./identify-stack.ts";
import { fmt } from "./lib.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);

export const HOME_SCREEN_QUERY = `query HomeScreen {
  me { displayName unreadNotificationCount }
  identifications(first: 10) {
    edges { node {
      id status createdAt confidence
      images { thumbnailUrl }
      topSpecies { scientificName commonNames care { watering light temperature humidity soil fertilizing toxicity } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Exchange = { ms: number; bytes: number; requests: number };

const headerBytes = (headers: Headers) => [...headers].reduce((n, [k, v]) => n + k.length + v.length + 4, 0);

/** One request and its size on the wire (HTTP/1.1 framing: request line, headers, body; same for the answer). */
async function exchange(url: string, init: RequestInit & { headers: Record<string, string> }) {
  const body = typeof init.body === "string" ? init.body : "";
  const path = new URL(url);
  const sent =
    `${init.method ?? "GET"} ${path.pathname}${path.search} HTTP/1.1\r\n`.length +
    Object.entries(init.headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0) +
    `host: ${path.host}\r\n\r\n`.length +
    Buffer.byteLength(body);
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 200)}`);
  const received = 17 + headerBytes(res.headers) + 2 + Buffer.byteLength(text);
  return { text, bytes: sent + received };
}

async function graphqlScreen(api: string, auth: Record<string, string>): Promise<Exchange> {
  const started = performance.now();
  const { text, bytes } = await exchange(`${api}/v1/graphql`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query: HOME_SCREEN_QUERY, operationName: "HomeScreen" }),
  });
  const body = JSON.parse(text) as { errors?: unknown; data: { identifications: { edges: unknown[] } } };
  if (body.errors || body.data.identifications.edges.length !== 10)
    throw new Error(`bad answer: ${text.slice(0, 300)}`);
  return { ms: performance.now() - started, bytes, requests: 1 };
}

async function restScreen(api: string, auth: Record<string, string>): Promise<Exchange> {
  const started = performance.now();
  const get = (path: string) =>
    exchange(`${api}${path}`, { method: "GET", headers: { ...auth, accept: "application/json" } });
  const [me, list, unread] = await Promise.all([
    get("/v1/me"),
    get("/v1/identifications?limit=10"),
    get("/v1/notifications?unread=true&limit=100"),
  ]);
  const items = (JSON.parse(list.text) as { data: { suggestions: { speciesId?: string }[] }[] }).data;
  const speciesIds = [
    ...new Set(items.map((i) => i.suggestions[0]?.speciesId).filter((id): id is string => !!id)),
  ];
  const species = await Promise.all(speciesIds.map((id) => get(`/v1/species/${id}`)));
  const all = [me, list, unread, ...species];
  return {
    ms: performance.now() - started,
    bytes: all.reduce((n, e) => n + e.bytes, 0),
    requests: all.length,
  };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

export async function runGraphqlBench(): Promise<Record<string, number>> {
  const stack = await startIdentifyStack({
    RATE_LIMIT_DEFAULT: "1000000/1m",
    GRAPHQL_RATE_LIMIT: "100000000/1m",
  });
  try {
    const auth = { authorization: `Bearer ${await stack.register()}` };
    for (let i = 0; i < 10; i++) {
      const form = new FormData();
      form.append(
        "images",
        new Blob([(await jpeg()) as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
        "p.jpg",
      );
      const res = await fetch(`${stack.apiUrl}/v1/identifications`, {
        method: "POST",
        headers: auth,
        body: form,
      });
      if (res.status !== 201) throw new Error(`identification answered ${res.status}: ${await res.text()}`);
    }
    // Warm-up (JIT, pools, caches) for both, then alternate so drift in machine load hits both alike.
    for (let i = 0; i < 5; i++) {
      await graphqlScreen(stack.apiUrl, auth);
      await restScreen(stack.apiUrl, auth);
    }
    const gql: Exchange[] = [];
    const rest: Exchange[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      gql.push(await graphqlScreen(stack.apiUrl, auth));
      rest.push(await restScreen(stack.apiUrl, auth));
    }
    const gqlMs = gql.map((e) => e.ms);
    const restMs = rest.map((e) => e.ms);
    const figures = {
      graphqlP50Ms: percentile(gqlMs, 50),
      graphqlP95Ms: percentile(gqlMs, 95),
      restP50Ms: percentile(restMs, 50),
      restP95Ms: percentile(restMs, 95),
      graphqlBytes: gql[0]!.bytes,
      restBytes: rest[0]!.bytes,
      graphqlRequests: 1,
      restRequests: rest[0]!.requests,
    };
    console.log(`home screen, ${ROUNDS} rounds each (GraphQL | REST reference):`);
    console.log(
      `  requests        ${figures.graphqlRequests} | ${figures.restRequests} (2 waves: 3 in parallel, then one per species)`,
    );
    console.log(`  latency p50     ${fmt(figures.graphqlP50Ms, 2)} ms | ${fmt(figures.restP50Ms, 2)} ms`);
    console.log(`  latency p95     ${fmt(figures.graphqlP95Ms, 2)} ms | ${fmt(figures.restP95Ms, 2)} ms`);
    console.log(`  bytes on wire   ${figures.graphqlBytes} | ${figures.restBytes}`);
    console.log(
      "  (loopback: no network latency; on a phone each extra wave adds a round trip of 50-300 ms)",
    );
    return figures;
  } finally {
    await stack.stop();
  }
}
