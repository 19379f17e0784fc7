import type { Db } from "../db/connect.ts";
import type { Deps } from "../deps.ts";
import { mediaUrls } from "../modules/identifications/identifications.dto.ts";
import { identificationDtoOf } from "../modules/identifications/identifications.jobs.ts";
import {
  findLiveIdentification,
  type IdentificationRow,
  listMediaOf,
  type MediaRow,
} from "../modules/identifications/identifications.repo.ts";
import type { Identification } from "../modules/identifications/identifications.schemas.ts";
import { findLiveIdentificationsByIds } from "./graphql.repo.ts";

type ViewDeps = Pick<Deps, "config" | "storage">;

/** The identification's DTO, as the REST service builds it (pending ones have no suggestions yet). */
function toDto(deps: ViewDeps, row: IdentificationRow, media: readonly MediaRow[]): Identification {
  return identificationDtoOf(row, media, mediaUrls(deps));
}

/** Several of one owner's live identifications in two statements (rows, then their media). */
export async function identificationsByIds(
  deps: ViewDeps,
  db: Db,
  userId: string,
  ids: readonly string[],
): Promise<Map<string, Identification>> {
  const rows = await findLiveIdentificationsByIds(db, userId, ids);
  const media = await listMediaOf(
    db,
    rows.map((r) => r.id),
  );
  return new Map(
    rows.map((row) => [
      row.id,
      toDto(
        deps,
        row,
        media.filter((m) => m.identification_id === row.id),
      ),
    ]),
  );
}

/**
 * The identification as its owner sees it, read from the primary: a live update follows a write made by a
 * worker, which the read router does not know this subscriber has to see (a lagging replica would answer the
 * state before the update that was just announced).
 */
export async function currentIdentification(
  deps: ViewDeps & Pick<Deps, "db">,
  userId: string,
  id: string,
): Promise<Identification | undefined> {
  const db = deps.db.primary;
  const row = await findLiveIdentification(db, userId, id);
  if (!row) return undefined;
  return toDto(deps, row, await listMediaOf(db, [row.id]));
}
