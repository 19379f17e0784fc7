import { afterAll, beforeAll, expect, test } from "bun:test";
import { gql } from "@urql/core";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { graphqlClient, type ServedApp, serveApp } from "../helpers/graphql.ts";

let app: TestApp;
let served: ServedApp;
beforeAll(async () => {
  app = await createTestApp();
  served = serveApp(app);
});
afterAll(async () => {
  served.stop();
  await app.close();
});

test("smoke", async () => {
  const user = await registerUser(app);
  const client = graphqlClient(served, user.headers);
  const r = await client
    .query(
      gql`query Home { me { displayName unreadNotificationCount } speciesList(first: 2) { edges { cursor node { id scientificName care { watering } } } pageInfo { hasNextPage endCursor } } identifications(first: 10) { edges { node { id } } } }`,
      {},
    )
    .toPromise();
  console.log(JSON.stringify(r.data), r.error);
  expect(r.error).toBeUndefined();
});
