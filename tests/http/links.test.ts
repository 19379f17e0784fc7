import { describe, expect, test } from "bun:test";
import { ApiKeyPageSchema, ApiKeySchema } from "../../src/modules/api-keys/api-keys.schemas.ts";
import { BatchSchema } from "../../src/modules/identification-batches/batches.schemas.ts";
import {
  IdentificationPageSchema,
  IdentificationSchema,
} from "../../src/modules/identifications/identifications.schemas.ts";
import { insertNotification } from "../../src/modules/notifications/notifications.repo.ts";
import {
  NotificationPageSchema,
  NotificationSchema,
} from "../../src/modules/notifications/notifications.schemas.ts";
import { SpeciesPageSchema, SpeciesSchema } from "../../src/modules/species/species.schemas.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createApiKey, registerUser, type TestUser } from "../helpers/auth.ts";
import { postIdentification, uploadForm, useIdentifyApp } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { removeQueueKeys } from "../helpers/workers.ts";

const fx = useIdentifyApp();
const ORIGIN = "http://localhost";

/** Follows a link as a client would: the absolute URL, the caller's credentials. */
async function follow(href: string, headers: Record<string, string>, init: RequestInit = {}) {
  expect(href.startsWith(`${ORIGIN}/v1/`)).toBe(true);
  return fx.app.request(href, { ...init, headers: { ...headers, ...(init.headers as object) } });
}

async function json<T>(res: Response, schema: { parse(v: unknown): T }): Promise<T> {
  expect(res.status).toBe(200);
  return schema.parse(await res.json());
}

async function identify(user: TestUser) {
  const res = await postIdentification(fx.app, user.headers, uploadForm([await jpeg()], { organs: "leaf" }));
  expect(res.status).toBe(201);
  return IdentificationSchema.parse(await res.json());
}

describe("links between resources", () => {
  test("an identification links itself, its history, photos, thumbnails, species, and offers delete to its owner", async () => {
    const user = await registerUser(fx.app);
    const created = await identify(user);
    const { links } = created;

    const self = await json(await follow(links.self, user.headers), IdentificationSchema);
    expect(self.id).toBe(created.id);
    expect(self.links).toEqual(links);
    const history = await json(await follow(links.collection, user.headers), IdentificationPageSchema);
    expect(history.data.map((d) => d.id)).toContain(created.id);

    expect(links.images).toHaveLength(1);
    expect(links.thumbnails).toHaveLength(1);
    for (const image of [...links.images, ...links.thumbnails]) {
      const res = await follow(image, {});
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
      expect((await res.bytes()).length).toBeGreaterThan(0);
    }
    expect(links.images[0]).toBe(created.images[0]!.url);

    const topSpeciesId = created.suggestions[0]!.speciesId!;
    const species = await json(await follow(links.species!, {}), SpeciesSchema);
    expect(species.id).toBe(topSpeciesId);
    for (const s of created.suggestions.filter((x) => x.speciesId)) {
      expect(s.links.species).toBe(`${ORIGIN}/v1/species/${s.speciesId}`);
      const linked = await json(await follow(s.links.species!, {}), SpeciesSchema);
      expect(linked.scientificName).toBe(s.scientificName);
    }

    expect(links.delete).toEqual({ href: links.self, method: "DELETE" });
    const deleted = await follow(links.delete!.href, user.headers, { method: links.delete!.method });
    expect(deleted.status).toBe(204);
    expect((await follow(links.self, user.headers)).status).toBe(404);
  });

  test("credentials that may only read identifications are offered no delete action", async () => {
    const user = await registerUser(fx.app);
    const created = await identify(user);
    const reader = await createApiKey(fx.app, user.accessToken, ["identifications:read"]);

    const seen = await json(await follow(created.links.self, reader.headers), IdentificationSchema);
    expect(seen.links.self).toBe(created.links.self);
    expect(seen.links.delete).toBeUndefined();
    const page = await json(await follow(created.links.collection, reader.headers), IdentificationPageSchema);
    expect(page.data.find((d) => d.id === created.id)?.links.delete).toBeUndefined();
    // Another user never sees it through the link either.
    const stranger = await registerUser(fx.app);
    expect((await follow(created.links.self, stranger.headers)).status).toBe(404);
  });

  test("a batch links itself and each item its identification and its batch", async () => {
    const user = await registerUser(fx.app);
    const form = new FormData();
    for (let i = 0; i < 2; i++)
      form.append(
        "images",
        new Blob([(await jpeg({ width: 200, height: 200 })) as Uint8Array<ArrayBuffer>]),
        `p${i}.jpg`,
      );
    const res = await fx.app.request("/v1/identification-batches", {
      method: "POST",
      headers: user.headers,
      body: form,
    });
    expect(res.status).toBe(202);
    const batch = BatchSchema.parse(await res.json());
    try {
      expect(res.headers.get("location")).toBe(batch.links.self);
      const again = await json(await follow(batch.links.self, user.headers), BatchSchema);
      expect(again.id).toBe(batch.id);
      await json(await follow(batch.links.identifications, user.headers), IdentificationPageSchema);
      for (const item of batch.items) {
        const identification = await json(
          await follow(item.links.identification, user.headers),
          IdentificationSchema,
        );
        expect(identification.id).toBe(item.identificationId);
        expect(item.links.batch).toBe(batch.links.self);
      }
    } finally {
      await removeQueueKeys(fx.app);
    }
  });

  test("the account links its collections and offers update, export and delete only to credentials that allow them", async () => {
    const user = await registerUser(fx.app);
    const me = await json(await follow(`${ORIGIN}/v1/me`, user.headers), UserSchema);
    expect(me.links.self).toBe(`${ORIGIN}/v1/me`);
    await json(await follow(me.links.identifications!, user.headers), IdentificationPageSchema);
    await json(await follow(me.links.notifications!, user.headers), NotificationPageSchema);
    await json(await follow(me.links.apiKeys!, user.headers), ApiKeyPageSchema);
    expect(me.links.update).toEqual({ href: `${ORIGIN}/v1/me`, method: "PATCH" });
    expect(me.links.export).toEqual({ href: `${ORIGIN}/v1/me/export`, method: "POST" });
    expect(me.links.delete).toEqual({ href: `${ORIGIN}/v1/me`, method: "DELETE" });

    const reader = await createApiKey(fx.app, user.accessToken, ["account:read"]);
    const limited = await json(await follow(me.links.self, reader.headers), UserSchema);
    expect(limited.links.update).toBeUndefined();
    expect(limited.links.export).toBeUndefined();
    expect(limited.links.delete).toBeUndefined();
  });

  test("API keys link their list and the revoke action, which works", async () => {
    const user = await registerUser(fx.app);
    const key = await createApiKey(fx.app, user.accessToken, ["species:read"]);
    const page = await json(await follow(`${ORIGIN}/v1/api-keys`, user.headers), ApiKeyPageSchema);
    const listed = page.data.find((k) => k.id === key.id)!;
    expect(listed.links.collection).toBe(`${ORIGIN}/v1/api-keys`);
    const self = await json(await follow(listed.links.self, user.headers), ApiKeySchema);
    expect(self.id).toBe(key.id);
    expect(listed.links.revoke).toEqual({ href: `${ORIGIN}/v1/api-keys/${key.id}`, method: "DELETE" });
    const revoked = await follow(listed.links.revoke!.href, user.headers, { method: "DELETE" });
    expect(revoked.status).toBe(204);
    const after = await json(await follow(listed.links.collection, user.headers), ApiKeyPageSchema);
    expect(after.data.map((k) => k.id)).not.toContain(key.id);
  });

  test("a notification links what it is about and offers read until it is read", async () => {
    const user = await registerUser(fx.app);
    const created = await identify(user);
    await insertNotification(fx.app.deps.db.primary, {
      userId: user.user.id,
      key: `identification.completed:${created.id}`,
      kind: "identification.completed",
      title: "Your identification is ready",
      body: "",
      data: { identificationId: created.id, speciesId: null },
    });
    // As a worker that writes for a user does (markOwnersWrite): the user's next read waits for a replica that has it.
    await fx.app.deps.db.markWrite(`user:${user.user.id}`);
    const page = await json(await follow(`${ORIGIN}/v1/notifications`, user.headers), NotificationPageSchema);
    const n = page.data[0]!;
    const about = await json(await follow(n.links.identification!, user.headers), IdentificationSchema);
    expect(about.id).toBe(created.id);
    expect(n.links.read?.method).toBe("POST");
    const read = await follow(n.links.read!.href, user.headers, { method: "POST" });
    const readBody = await json(read, NotificationSchema);
    expect(readBody.readAt).not.toBeNull();
    expect(readBody.links.read).toBeUndefined();
  });

  test("a species links itself, the catalogue and its family's and genus's species", async () => {
    const list = await json(await fx.app.request("/v1/species?limit=1"), SpeciesPageSchema);
    const s = list.data[0]!;
    const self = await json(await follow(s.links.self, {}), SpeciesSchema);
    expect(self.id).toBe(s.id);
    expect(self.links).toEqual(s.links);
    await json(await follow(s.links.collection, {}), SpeciesPageSchema);
    const family = await json(await follow(s.links.family, {}), SpeciesPageSchema);
    expect(family.data.every((x) => x.family === s.family)).toBe(true);
    expect(family.data.map((x) => x.id)).toContain(s.id);
    const genus = await json(await follow(s.links.genus, {}), SpeciesPageSchema);
    expect(genus.data.every((x) => x.genus === s.genus)).toBe(true);
  });
});
