import { describe, expect, test } from "bun:test";
import { jsonRequest, registerUser } from "../helpers/auth.ts";
import {
  CREATE_IDENTIFICATION,
  type CreatedIdentification,
  createIdentification,
  graphqlClient,
  photoFile,
  useGraphqlApp,
} from "../helpers/graphql.ts";
import { identificationRowsOf } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { removeQueueKeys } from "../helpers/workers.ts";

const g = useGraphqlApp();

describe("GraphQL mutations over HTTP (urql, multipart request spec)", () => {
  test("createIdentification uploads photos as multipart and answers the completed identification", async () => {
    const user = await registerUser(g.app);
    const client = graphqlClient(g.served, user.headers);
    const made = await createIdentification(client, { organs: ["LEAF"], latitude: 48.85, longitude: 2.35 });
    expect(made.status).toBe("COMPLETED");
    expect(made.images).toHaveLength(1);
    expect(made.suggestions[0]!.rank).toBe(1);
    expect(made.suggestions.some((s) => s.species?.care.watering)).toBe(true);
    const rows = await identificationRowsOf(g.app, user.user.id);
    expect(rows.map((r) => r.id)).toEqual([made.databaseId]);
    expect(rows[0]!.request).toMatchObject({ organs: ["leaf"], latitude: 48.85, longitude: 2.35 });
    // REST sees the same identification.
    const rest = await g.app.request(`/v1/identifications/${made.databaseId}`, { headers: user.headers });
    expect(rest.status).toBe(200);
  });

  test("background: true stores and queues the identification (status QUEUED), as Prefer: respond-async", async () => {
    const user = await registerUser(g.app);
    const client = graphqlClient(g.served, user.headers);
    const made = await createIdentification(client, { background: true });
    expect(made.status).toBe("QUEUED");
    expect(made.suggestions).toEqual([]);
    const rows = await identificationRowsOf(g.app, user.user.id);
    expect(rows[0]!.status).toBe("queued");
    // Its job stays queued (no worker here): removed with the test's other queue keys.
    await removeQueueKeys(g.app);
  });

  test("the same idempotencyKey replays the first answer instead of identifying twice", async () => {
    const user = await registerUser(g.app);
    const client = graphqlClient(g.served, user.headers);
    const file = await photoFile();
    const input = { images: [file], idempotencyKey: `gql-${crypto.randomUUID()}` };
    const first = await client.mutation<CreatedIdentification>(CREATE_IDENTIFICATION, { input }).toPromise();
    const again = await client.mutation<CreatedIdentification>(CREATE_IDENTIFICATION, { input }).toPromise();
    expect(first.data!.createIdentification.replayed).toBe(false);
    expect(again.data!.createIdentification.replayed).toBe(true);
    expect(again.data!.createIdentification.identification.id).toBe(
      first.data!.createIdentification.identification.id,
    );
    expect(await identificationRowsOf(g.app, user.user.id)).toHaveLength(1);
  });

  test("uploads are checked as REST checks them: a file that is not an image is refused with its code", async () => {
    const user = await registerUser(g.app);
    const client = graphqlClient(g.served, user.headers);
    const text = new File(["not a photo"], "notes.jpg", { type: "image/jpeg" });
    const res = await client.mutation(CREATE_IDENTIFICATION, { input: { images: [text] } }).toPromise();
    expect(res.error?.graphQLErrors[0]?.extensions.code).toBe("unsupported_media_type");
    expect(await identificationRowsOf(g.app, user.user.id)).toHaveLength(0);
  });

  test("createIdentification from uploadIds: photos sent before with POST /v1/uploads", async () => {
    const user = await registerUser(g.app);
    const bytes = await jpeg();
    const ticketRes = await g.app.request(
      "/v1/uploads",
      jsonRequest("POST", { contentType: "image/jpeg", contentLength: bytes.byteLength }, user.headers),
    );
    expect(ticketRes.status).toBe(201);
    const ticket = (await ticketRes.json()) as {
      uploadId: string;
      url: string;
      headers: Record<string, string>;
    };
    const put = await g.app.request(ticket.url, {
      method: "PUT",
      headers: ticket.headers,
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    expect(put.ok).toBe(true);
    const client = graphqlClient(g.served, user.headers);
    const res = await client
      .mutation<CreatedIdentification>(CREATE_IDENTIFICATION, {
        input: { uploadIds: [ticket.uploadId], organs: ["LEAF"] },
      })
      .toPromise();
    expect(res.error).toBeUndefined();
    const made = res.data!.createIdentification.identification;
    expect(made.status).toBe("COMPLETED");
    expect(made.images).toHaveLength(1);
    const rows = await identificationRowsOf(g.app, user.user.id);
    expect(rows.map((r) => r.id)).toEqual([made.databaseId]);

    const both = await client
      .mutation(CREATE_IDENTIFICATION, {
        input: { uploadIds: [ticket.uploadId], images: [await photoFile()] },
      })
      .toPromise();
    expect(both.error?.graphQLErrors[0]?.extensions.code).toBe("validation_failed");
  });

  test("createIdentification needs identifications:write", async () => {
    const res = await graphqlClient(g.served)
      .mutation(CREATE_IDENTIFICATION, { input: { images: [await photoFile()] } })
      .toPromise();
    expect(res.error?.graphQLErrors[0]?.extensions.code).toBe("unauthenticated");
  });

  test("deleteIdentification soft-deletes the caller's identification; another's is not found", async () => {
    const user = await registerUser(g.app);
    const client = graphqlClient(g.served, user.headers);
    const made = await createIdentification(client);
    const del = `mutation D($id: ID!) { deleteIdentification(id: $id) { deletedId } }`;
    const other = graphqlClient(g.served, (await registerUser(g.app)).headers);
    const refused = await other.mutation(del, { id: made.id }).toPromise();
    expect(refused.error?.graphQLErrors[0]?.extensions.code).toBe("not_found");

    const res = await client.mutation(del, { id: made.id }).toPromise();
    expect(res.data.deleteIdentification.deletedId).toBe(made.id);
    const rows = await identificationRowsOf(g.app, user.user.id);
    expect(rows[0]!.deleted_at).not.toBeNull();
    const gone = await client
      .query(`query($id: ID!) { identification(id: $id) { id } }`, { id: made.id })
      .toPromise();
    expect(gone.data.identification).toBeNull();
    const again = await client.mutation(del, { id: made.id }).toPromise();
    expect(again.error?.graphQLErrors[0]?.extensions.code).toBe("not_found");
  });
});
