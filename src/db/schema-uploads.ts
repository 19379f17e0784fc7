import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** A direct upload (POST /v1/uploads): the declared object, until an identification claims it or it is swept. */
export interface UploadsTable {
  id: string;
  user_id: string;
  storage_key: string;
  content_type: string;
  content_length: number;
  /** Hex SHA-256 the client declared, checked when the upload is claimed. */
  sha256: string | null;
  /** The signed upload URL's expiry: no PUT is accepted after it. */
  expires_at: Timestamp;
  /** A claim in progress (or finished, when removing the object failed): not usable by another request. */
  claimed_at: Date | null;
  created_at: Timestamp;
}

export interface UploadTables {
  uploads: UploadsTable;
}
