import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** `date`: written and compared as `YYYY-MM-DD`; read it with to_char (a Date would depend on time zones). */
type Day = ColumnType<Date | string, string, string>;
/** bigint counts come back as strings from postgres.js. */
type Count = ColumnType<string, number, number>;

export interface CspViolationsDailyTable {
  day: Day;
  directive: string;
  blocked_origin: string;
  document_path: string;
  source_file: string;
  line: number;
  disposition: "enforce" | "report";
  count: Count;
  first_seen: Timestamp;
  last_seen: Timestamp;
  sample: ColumnType<Record<string, unknown>, Record<string, unknown>, Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CspViolationTypesTable {
  directive: string;
  blocked_origin: string;
  first_seen: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CspTables {
  csp_violations_daily: CspViolationsDailyTable;
  csp_violation_types: CspViolationTypesTable;
}
