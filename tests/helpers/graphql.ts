import { afterAll, beforeAll } from "bun:test";
import { Client, fetchExchange } from "@urql/core";
import { createClient as createSseClient } from "graphql-sse";
import type { TestApp } from "./app.ts";
import { useIdentifyApp } from "./identify.ts";
import { jpeg } from "./images.ts";

/** The app on a real port: GraphQL clients speak HTTP (and SSE) to it, as a mobile app does. */
export type ServedApp = { url: string; stop(): void };

export function serveApp(app: TestApp): ServedApp {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    // SSE streams stay open for as long as a subscription lasts.
    idleTimeout: 0,
    fetch: (req, srv) => app.serve!(req, srv),
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

/** urql, the GraphQL client of our apps, over plain HTTP (no cache: every query reaches the server). */
export function graphqlClient(base: ServedApp, headers: Record<string, string> = {}): Client {
  return new Client({
    url: `${base.url}/v1/graphql`,
    exchanges: [fetchExchange],
    requestPolicy: "network-only",
    preferGetMethod: false,
    fetchOptions: () => ({ headers }),
  });
}

/** graphql-sse's client in distinct-connections mode (one SSE stream per subscription), as yoga serves it. */
export function sseClient(base: ServedApp, headers: Record<string, string> = {}) {
  return createSseClient({ url: `${base.url}/v1/graphql`, headers, retryAttempts: 0 });
}

/** Collects a subscription's values; `next(n)` waits (with a deadline) until n values have arrived. */
export function collect<T>(
  client: ReturnType<typeof sseClient>,
  payload: { query: string; variables?: Record<string, unknown> },
) {
  const values: T[] = [];
  const errors: unknown[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  const dispose = client.subscribe<T>(payload, {
    next: (v) => {
      values.push(v.data as T);
      if (v.errors) errors.push(...v.errors);
      wake?.();
    },
    error: (e) => {
      errors.push(e);
      done = true;
      wake?.();
    },
    complete: () => {
      done = true;
      wake?.();
    },
  });
  return {
    values,
    errors,
    get done() {
      return done;
    },
    dispose,
    async until(check: () => boolean, timeoutMs = 30_000, what = "subscription values") {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(values)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 250);
        });
      }
    },
  };
}

/** An identification app (simulated providers, local media) served on a port, for the file's tests. */
export function useGraphqlApp(env: Record<string, string> = {}) {
  const fixture = useIdentifyApp(env);
  let served: ServedApp | undefined;
  beforeAll(() => {
    served = serveApp(fixture.app);
  });
  afterAll(() => served?.stop());
  return {
    get app() {
      return fixture.app;
    },
    get sim() {
      return fixture.sim;
    },
    get served() {
      return served!;
    },
  };
}

export const CREATE_IDENTIFICATION = `
  mutation Create($input: CreateIdentificationInput!) {
    createIdentification(input: $input) {
      replayed
      identification {
        id databaseId status createdAt
        images { url thumbnailUrl width height }
        confidence
        suggestions { rank scientificName probability species { id scientificName care { watering light } } }
        topSpecies { id scientificName }
        health { isHealthy probability }
      }
    }
  }
`;

export type CreatedIdentification = {
  createIdentification: {
    replayed: boolean;
    identification: {
      id: string;
      databaseId: string;
      status: string;
      createdAt: string;
      images: { url: string; thumbnailUrl: string; width: number; height: number }[];
      confidence: number | null;
      suggestions: {
        rank: number;
        scientificName: string;
        probability: number;
        species: { id: string; scientificName: string; care: { watering: string; light: string } } | null;
      }[];
      topSpecies: { id: string; scientificName: string } | null;
      health: { isHealthy: boolean; probability: number } | null;
    };
  };
};

/** A photo as a browser or app hands it to the GraphQL client (a File in the variables: multipart request). */
export async function photoFile(name = "leaf.jpg"): Promise<File> {
  return new File([(await jpeg()) as Uint8Array<ArrayBuffer>], name, { type: "image/jpeg" });
}

/** Creates an identification through the GraphQL multipart mutation and returns it (fails the test on errors). */
export async function createIdentification(client: Client, input: Record<string, unknown> = {}) {
  const result = await client
    .mutation<CreatedIdentification>(CREATE_IDENTIFICATION, {
      input: { images: [await photoFile()], ...input },
    })
    .toPromise();
  if (result.error) throw new Error(`createIdentification failed: ${result.error.message}`);
  return result.data!.createIdentification.identification;
}
