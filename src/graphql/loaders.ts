import DataLoader from "dataloader";
import type { Db } from "../db/connect.ts";
import type { Deps } from "../deps.ts";
import type { Identification } from "../modules/identifications/identifications.schemas.ts";
import type { SpeciesRow } from "../modules/species/species.repo.ts";
import { findSpeciesByIds } from "../modules/species/species.repo.ts";
import type { UserRow } from "../modules/users/users.repo.ts";
import { countUnreadNotifications, findLiveUsersByIds } from "./graphql.repo.ts";
import { identificationsByIds } from "./identification-view.ts";

/**
 * Built per request: a page of 50 identifications asks for its species and care in one statement (batched in the
 * same tick; the page's media come with the page, one statement, from the identifications service, and the
 * identifications loader reads its rows' media in one statement too), and a loader never serves one caller's
 * rows to another. Reads go through the read router as this caller, so read-after-write holds as for REST.
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
