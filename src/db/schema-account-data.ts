import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface AccountExportsTable {
  id: string;
  user_id: string;
  status: ColumnType<
    "queued" | "ready" | "failed" | "expired",
    "queued" | undefined,
    "ready" | "failed" | "expired"
  >;
  storage_key: string | null;
  byte_size: ColumnType<string | null, number | null | undefined, number | null>;
  failure: string | null;
  completed_at: Date | null;
  expires_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AccountDataTables {
  account_exports: AccountExportsTable;
}
