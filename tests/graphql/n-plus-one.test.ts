import { expect, test } from "bun:test";
import { insertIdentification, listMediaOf } from "../../src/modules/identifications/identifications.repo.ts";
import { registerUser } from "../helpers/auth.ts";
import { createIdentification, graphqlClient, useGraphqlApp } from "../helpers/graphql.ts";

const g = useGraphqlApp();

/** SQL statements run by the app's Kysely instances (primary and replica), as its metrics count them. */
async function statements(): Promise<number> {
  const metric = await g.app.deps.metrics.dbQueryDuration.get();
  return metric.values.filter((v) => v.metricName?.endsWith("_count")).reduce((n, v) => n + v.value, 0);
}

const PAGE = `query Page($first: Int!) {
  me { displayName unreadNotificationCount }
  identifications(first: $first) {
    edges { node {
      id status images { thumbnailUrl }
      topSpecies { scientificName care { watering light } }
      suggestions { rank species { scientificName care { watering soil toxicity } } }
    } }
  }
}`;

test("a page of 50 identifications with species and care costs as many SQL statements as a page of 5", async () => {
  const user = await registerUser(g.app);
  const client = graphqlClient(g.served, user.headers);
  const model = await createIdentification(client);
  const db = g.app.deps.db.primary;
  const row = await db
    .selectFrom("identifications")
    .selectAll()
    .where("id", "=", model.databaseId)
    .executeTakeFirstOrThrow();
  const [media] = await listMediaOf(db, [row.id]);
  // 49 more like it (each with its photo), one second apart.
  for (let i = 1; i < 50; i++) {
    const id = Bun.randomUUIDv7();
    await db.transaction().execute((trx) =>
      insertIdentification(
        trx,
        {
          id,
          userId: user.user.id,
          createdAt: new Date(row.created_at.getTime() - i * 1000),
          isPlant: row.is_plant,
          confidence: row.confidence,
          topSpeciesId: row.top_species_id,
          modelVersion: row.model_version,
          request: row.request as Record<string, unknown>,
          result: row.result,
        },
        [
          {
            id: Bun.randomUUIDv7(),
            position: 0,
            storageKey: media!.storage_key,
            thumbnailKey: media!.thumbnail_key,
            byteSize: media!.byte_size,
            width: media!.width,
            height: media!.height,
            sha256: media!.sha256,
          },
        ],
      ),
    );
  }
  // Read as the writer would (read-after-write keeps this caller on the primary): the whole page is visible.
  await g.app.deps.db.markWrite(`user:${user.user.id}`);

  const count = async (first: number) => {
    const before = await statements();
    const res = await client.query(PAGE, { first }).toPromise();
    expect(res.error).toBeUndefined();
    expect(res.data.identifications.edges).toHaveLength(first);
    const node = res.data.identifications.edges.at(-1).node;
    expect(node.topSpecies.care.watering).toBeTruthy();
    expect(node.suggestions.some((s: { species: unknown }) => s.species)).toBe(true);
    return (await statements()) - before;
  };
  const small = await count(5);
  const large = await count(50);
  // identifications, their media, the species of every suggestion, the user, the unread count.
  expect(large).toBe(small);
  expect(large).toBeLessThanOrEqual(6);
});
