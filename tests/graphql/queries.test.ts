import { describe, expect, test } from "bun:test";
import { canonicalSdl } from "../../scripts/graphql-schema.ts";
import { waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { createIdentification, graphqlClient, useGraphqlApp } from "../helpers/graphql.ts";

const g = useGraphqlApp();

const HOME = `
  query HomeScreen {
    me { id displayName email role unreadNotificationCount }
    identifications(first: 10) {
      edges {
        cursor
        node {
          id status createdAt confidence
          images { thumbnailUrl }
          topSpecies { scientificName commonNames care { watering light toxicity } }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

type Home = {
  me: { id: string; displayName: string; email: string; role: string; unreadNotificationCount: number };
  identifications: {
    edges: {
      cursor: string;
      node: {
        id: string;
        status: string;
        images: { thumbnailUrl: string }[];
        topSpecies: { scientificName: string; care: { watering: string } } | null;
      };
    }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

describe("GraphQL queries over HTTP (urql)", () => {
  test("the home screen comes in one request: me, recent identifications with species and care, unread count", async () => {
    const user = await registerUser(g.app);
    const client = graphqlClient(g.served, user.headers);
    const first = await createIdentification(client);
    const second = await createIdentification(client);
    const { data, error } = await client.query<Home>(HOME, {}).toPromise();
    expect(error).toBeUndefined();
    expect(data!.me).toMatchObject({ displayName: "Test User", email: user.email, role: "USER" });
    expect(data!.me.unreadNotificationCount).toBe(0);
    // Newest first, as REST lists them.
    expect(data!.identifications.edges.map((e) => e.node.id)).toEqual([second.id, first.id]);
    const node = data!.identifications.edges[0]!.node;
    expect(node.status).toBe("COMPLETED");
    expect(node.images[0]!.thumbnailUrl).toStartWith(g.served.url);
    expect(node.topSpecies?.scientificName).toBe(second.topSpecies!.scientificName);
    expect(node.topSpecies?.care.watering.length).toBeGreaterThan(0);
    expect(data!.identifications.pageInfo.hasNextPage).toBe(false);
  });

  test("identifications page with first/after and filter by species, minConfidence and dates", async () => {
    const user = await registerUser(g.app);
    const client = graphqlClient(g.served, user.headers);
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createIdentification(client));
    const page = `query Page($after: String, $speciesId: ID, $min: Float, $from: DateTime, $to: DateTime) {
      identifications(first: 2, after: $after, speciesId: $speciesId, minConfidence: $min, from: $from, to: $to) {
        edges { cursor node { id confidence topSpecies { id } } }
        pageInfo { hasNextPage hasPreviousPage endCursor }
      }
    }`;
    type Page = {
      identifications: {
        edges: { node: { id: string; confidence: number; topSpecies: { id: string } | null } }[];
        pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string };
      };
    };
    const one = (await client.query<Page>(page, {}).toPromise()).data!.identifications;
    expect(one.edges.map((e) => e.node.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(one.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const two = (await client.query<Page>(page, { after: one.pageInfo.endCursor }).toPromise()).data!
      .identifications;
    expect(two.edges.map((e) => e.node.id)).toEqual([made[0]!.id]);
    expect(two.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const target = made[1]!;
    const bySpecies = (await client.query<Page>(page, { speciesId: target.topSpecies!.id }).toPromise()).data!
      .identifications;
    expect(bySpecies.edges.map((e) => e.node.id)).toContain(target.id);
    expect(bySpecies.edges.every((e) => e.node.topSpecies?.id === target.topSpecies!.id)).toBe(true);

    const none = await client.query<Page>(page, { min: 1.01 }).toPromise();
    expect(none.error?.graphQLErrors[0]?.extensions.code).toBe("validation_failed");
    const future = (await client.query<Page>(page, { from: "2999-01-01T00:00:00Z" }).toPromise()).data!;
    expect(future.identifications.edges).toEqual([]);
    const past = (await client.query<Page>(page, { to: "2000-01-01T00:00:00Z" }).toPromise()).data!;
    expect(past.identifications.edges).toEqual([]);
  });

  test("identification(id) has images, ranked suggestions linked to species and care, and health", async () => {
    const user = await registerUser(g.app);
    const client = graphqlClient(g.served, user.headers);
    const made = await createIdentification(client, { includeHealth: true });
    const q = `query One($id: ID!) { identification(id: $id) {
      id databaseId status
      images { url thumbnailUrl width height }
      suggestions { rank probability scientificName species { scientificName care { watering soil } } }
      health { isHealthy probability diseases { name probability treatment { prevention } } }
    } }`;
    type One = {
      identification: {
        databaseId: string;
        images: { url: string; width: number }[];
        suggestions: { rank: number; species: { care: { watering: string } } | null }[];
        health: { isHealthy: boolean; probability: number } | null;
      } | null;
    };
    const { data } = await client.query<One>(q, { id: made.id }).toPromise();
    const one = data!.identification!;
    expect(one.images).toHaveLength(1);
    const image = await fetch(one.images[0]!.url, { headers: user.headers });
    expect(image.status).toBe(200);
    expect(image.headers.get("content-type")).toBe("image/jpeg");
    expect(one.suggestions.map((s) => s.rank)).toEqual(one.suggestions.map((_, i) => i + 1));
    expect(one.suggestions.some((s) => s.species?.care.watering)).toBe(true);
    expect(one.health).not.toBeNull();
    // The REST id works too, and someone else's identification is simply not there.
    expect(
      (await client.query<One>(q, { id: one.databaseId }).toPromise()).data!.identification,
    ).not.toBeNull();
    const other = graphqlClient(g.served, (await registerUser(g.app)).headers);
    expect((await other.query<One>(q, { id: made.id }).toPromise()).data!.identification).toBeNull();
  });

  test("species(id) and speciesList are public, paged by cursor and filtered like REST", async () => {
    const client = graphqlClient(g.served);
    const list = `query L($after: String, $q: String, $family: String) {
      speciesList(first: 3, after: $after, q: $q, family: $family) {
        edges { cursor node { id databaseId scientificName family genus care { watering } } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    type L = {
      speciesList: {
        edges: { node: { id: string; databaseId: string; scientificName: string; family: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    };
    const one = (await client.query<L>(list, {}).toPromise()).data!.speciesList;
    expect(one.edges).toHaveLength(3);
    const names = one.edges.map((e) => e.node.scientificName);
    expect([...names].sort()).toEqual(names);
    const two = (await client.query<L>(list, { after: one.pageInfo.endCursor }).toPromise()).data!
      .speciesList;
    expect(two.edges[0]!.node.scientificName > names[2]!).toBe(true);
    const araceae = (await client.query<L>(list, { family: "araceae" }).toPromise()).data!.speciesList;
    expect(araceae.edges.length).toBeGreaterThan(0);
    expect(araceae.edges.every((e) => e.node.family === "Araceae")).toBe(true);
    const monstera = (await client.query<L>(list, { q: "monstera" }).toPromise()).data!.speciesList;
    expect(monstera.edges.some((e) => e.node.scientificName === "Monstera deliciosa")).toBe(true);

    const byId = `query S($id: ID!) { species(id: $id) { id scientificName care { light } } node(id: $id) { id ... on Species { scientificName } } }`;
    const species = one.edges[0]!.node;
    const found = await client.query(byId, { id: species.id }).toPromise();
    expect(found.data.species).toMatchObject({ id: species.id, scientificName: species.scientificName });
    expect(found.data.node).toMatchObject({ id: species.id, scientificName: species.scientificName });
    const rest = await g.app.request(`/v1/species/${species.databaseId}`);
    expect(((await rest.json()) as { scientificName: string }).scientificName).toBe(species.scientificName);
  });

  test("notifications(unread) lists the caller's notifications; markNotificationsRead marks them", async () => {
    const user = await registerUser(g.app);
    const client = graphqlClient(g.served, user.headers);
    for (const key of ["a", "b", "c"]) {
      await g.app.deps.db.primary
        .insertInto("notifications")
        .values({
          id: Bun.randomUUIDv7(),
          user_id: user.user.id,
          dedupe_key: `test:${key}`,
          kind: "export.ready",
          title: `Export ${key}`,
          body: "",
          data: { exportId: crypto.randomUUID() },
        })
        .execute();
    }
    // As a worker that writes for a user does: the user's next read waits for a replica that has these rows.
    await g.app.deps.db.markWrite(`user:${user.user.id}`);
    const q = `query N($unread: Boolean, $after: String) {
      me { unreadNotificationCount }
      notifications(first: 2, unread: $unread, after: $after) {
        edges { node { id kind title readAt data } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    type N = {
      me: { unreadNotificationCount: number };
      notifications: {
        edges: { node: { id: string; title: string; readAt: string | null } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    };
    // Written behind the API (as a worker does): the replica shows them shortly.
    const page = (await waitFor(async () => {
      const data = (await client.query<N>(q, { unread: true }).toPromise()).data!;
      return data.me.unreadNotificationCount === 3 ? data : undefined;
    })) as N;
    expect(page.notifications.edges.map((e) => e.node.title)).toEqual(["Export c", "Export b"]);
    const rest = (
      await client.query<N>(q, { unread: true, after: page.notifications.pageInfo.endCursor }).toPromise()
    ).data!;
    expect(rest.notifications.edges.map((e) => e.node.title)).toEqual(["Export a"]);

    const mark = `mutation M($ids: [ID!]!) { markNotificationsRead(ids: $ids) { notifications { id readAt } } }`;
    const ids = page.notifications.edges.map((e) => e.node.id);
    const marked = await client.mutation(mark, { ids }).toPromise();
    expect(marked.error).toBeUndefined();
    expect(marked.data.markNotificationsRead.notifications.every((n: { readAt: string }) => n.readAt)).toBe(
      true,
    );
    // Read-after-write: the caller's own write is visible at once.
    const after = (await client.query<N>(q, { unread: true }).toPromise()).data!;
    expect(after.me.unreadNotificationCount).toBe(1);
    expect(after.notifications.edges.map((e) => e.node.title)).toEqual(["Export a"]);
  });

  test("fields that need a caller answer with our codes; public fields of the same request still answer", async () => {
    const anonymous = graphqlClient(g.served);
    const res = await anonymous
      .query(`{ speciesList(first: 1) { edges { node { id } } } me { id } }`, {})
      .toPromise();
    expect(res.data?.speciesList.edges).toHaveLength(1);
    expect(res.error?.graphQLErrors[0]?.extensions.code).toBe("unauthenticated");
    expect(res.error?.graphQLErrors[0]?.path).toEqual(["me"]);

    const expired = graphqlClient(g.served, { authorization: "Bearer not-a-token" });
    const refused = await expired.query(`{ me { id } }`, {}).toPromise();
    expect(refused.error?.graphQLErrors[0]?.extensions.code).toBe("invalid_token");

    // An API key with only species:read: identifications need identifications:read, per field.
    const user = await registerUser(g.app);
    const key = await g.app.request("/v1/api-keys", {
      method: "POST",
      headers: { ...user.headers, "content-type": "application/json" },
      body: JSON.stringify({ name: "catalogue only", scopes: ["species:read"] }),
    });
    expect(key.status).toBe(201);
    const { key: secret } = (await key.json()) as { key: string };
    const scoped = graphqlClient(g.served, { "x-api-key": secret });
    const partial = await scoped
      .query(
        `{ speciesList(first: 1) { edges { node { id } } } identifications { edges { node { id } } } }`,
        {},
      )
      .toPromise();
    expect(partial.data?.speciesList.edges).toHaveLength(1);
    expect(partial.error?.graphQLErrors[0]?.extensions.code).toBe("insufficient_scope");
  });

  test("the SDL is served at /v1/graphql/schema.graphql and GraphiQL on GET for browsers", async () => {
    const sdl = await fetch(`${g.served.url}/v1/graphql/schema.graphql`);
    expect(sdl.status).toBe(200);
    const text = await sdl.text();
    expect(text).toContain("type Query");
    // The committed file (formatted by Biome) is the same schema.
    expect(canonicalSdl(text)).toBe(canonicalSdl(await Bun.file("src/graphql/schema.graphql").text()));
    const page = await fetch(`${g.served.url}/v1/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(await page.text()).toContain("GraphiQL");
    expect(page.headers.get("x-request-id")).toBeTruthy();
  });
});
