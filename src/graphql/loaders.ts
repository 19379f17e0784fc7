import DataLoader from "dataloader";
import type { Db } from "../db/connect.ts";
import type { Deps } from "../deps.ts";
import { listMediaOf, type MediaRow } from "../modules/identifications/identifications.repo.ts";
import type { Identification } from "../modules/identifications/identifications.schemas.ts";
import type { SpeciesRow } from "../modules/species/species.repo.ts";
import type { UserRow } from "../modules/users/users.repo.ts";
import { countUnreadNotifications, findLiveUsersByIds, findSpeciesByIds } from "./graphql.repo.ts";
import { identificationsByIds } from "./identification-view.ts";

/**
 * Built per request: a page of 50 identifications asks for its media, species and care in one statement each
 * (batched in the same tick), and a loader never serves one caller's rows to another. Reads go through the
 * read router as this caller, so read-after-write holds as it does for REST.
 */
export function createLoaders(
  deps: Pick<Deps, "db" | "config" | "storage">,
  clientKey: string,
  userId: string | undefined,
) {
  const read = <T>(query: (db: Db) => Promise<T>) => deps.db.read(clientKey, query);
  return {
    species: new DataLoader<string, SpeciesRow | undefined>(async (ids) => {
      const rows = await read<SpeciesRow[]>((db) => findSpeciesByIds(db, ids));
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id));
    }),
    /** The media rows of each identification, in position order. */
    media: new DataLoader<string, MediaRow[]>(async (identificationIds) => {
      const rows = await read<MediaRow[]>((db) => listMediaOf(db, identificationIds));
      return identificationIds.map((id) => rows.filter((m) => m.identification_id === id));
    }),
    users: new DataLoader<string, UserRow | undefined>(async (ids) => {
      const rows = await read<UserRow[]>((db) => findLiveUsersByIds(db, ids));
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id));
    }),
    /** The caller's own identifications by id (a notification's subject); others' are never found. */
    identifications: new DataLoader<string, Identification | null>(async (ids) => {
      if (!userId) return ids.map(() => null);
      const found = await read((db) => identificationsByIds(deps, db, userId, ids));
      return ids.map((id) => found.get(id) ?? null);
    }),
    unreadNotifications: new DataLoader<string, number>(async (userIds) => {
      const counts = await read<Map<string, number>>((db) => countUnreadNotifications(db, userIds));
      return userIds.map((id) => counts.get(id) ?? 0);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
