/**
 * An identification's rows (identification, media, model calls, audit) are written as one statement after its
 * photos are checked (identifications.repo.ts insertIdentification, db/insert-together.ts): all of them land, or
 * none does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditInsert } from "../../src/modules/audit/audit.record.ts";
import {
  insertIdentification,
  type NewMedia,
} from "../../src/modules/identifications/identifications.repo.ts";
import { PhotoGoneError } from "../../src/modules/photos/index.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser, type TestUser } from "../helpers/auth.ts";

let t: TestApp;
let u: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  u = await registerUser(t);
});
afterAll(() => t.close());

function newMedia(storageKey: string): NewMedia {
  return {
    id: Bun.randomUUIDv7(),
    position: 0,
    storageKey,
    thumbnailKey: `${storageKey}.thumb`,
    byteSize: 1234,
    width: 40,
    height: 30,
    sha256: "0".repeat(64),
  };
}

async function write(media: NewMedia) {
  const id = Bun.randomUUIDv7();
  const actor = { kind: "user" as const, userId: u.user.id };
  const written = t.deps.db.primary.transaction().execute((trx) =>
    insertIdentification(
      trx,
      {
        id,
        userId: u.user.id,
        createdAt: new Date(),
        isPlant: true,
        confidence: 0.9,
        topSpeciesId: null,
        modelVersion: "test",
        request: { organs: ["leaf"] },
        result: { suggestions: [] },
      },
      [media],
      [
        auditInsert(trx, actor, {
          action: "identification.create",
          entityType: "identification",
          entityId: id,
        }).insert,
      ],
    ),
  );
  return { id, written };
}

async function rowsOf(id: string) {
  const db = t.deps.db.primary;
  const [identifications, media, audit] = await Promise.all([
    db.selectFrom("identifications").select("id").where("id", "=", id).execute(),
    db.selectFrom("media").select(["id", "storage_key"]).where("identification_id", "=", id).execute(),
    db.selectFrom("audit_log").select("id").where("entity_id", "=", id).execute(),
  ]);
  return { identifications: identifications.length, media: media.length, audit: audit.length };
}

describe("an identification's write", () => {
  test("with its photo stored: the identification, its media row and its audit entry land together", async () => {
    const storageKey = `photos/test-${crypto.randomUUID()}.jpg`;
    await t.deps.db.primary
      .insertInto("photos")
      .values({
        storage_key: storageKey,
        thumbnail_key: `${storageKey}.thumb`,
        byte_size: 1234,
        width: 40,
        height: 30,
      })
      .execute();
    const { id, written } = await write(newMedia(storageKey));
    await written;
    expect(await rowsOf(id)).toEqual({ identifications: 1, media: 1, audit: 1 });
  });

  test("with its photo no longer stored (swept meanwhile): PhotoGoneError, and no row of it is written", async () => {
    const { id, written } = await write(newMedia(`photos/gone-${crypto.randomUUID()}.jpg`));
    await expect(written).rejects.toBeInstanceOf(PhotoGoneError);
    expect(await rowsOf(id)).toEqual({ identifications: 0, media: 0, audit: 0 });
  });
});
