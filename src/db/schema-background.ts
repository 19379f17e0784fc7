import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** jsonb: pass objects (postgres.js serialises them); a JSON string would be stored as a jsonb string. */
type Json<T> = ColumnType<T, T, T>;

export interface NotificationsTable {
  id: string;
  user_id: string;
  kind: string;
  title: string;
  body: string;
  data: Json<Record<string, unknown>>;
  dedupe_key: string;
  read_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EmailDeliveriesTable {
  key: string;
  status: "sending" | "sent";
  message_id: string;
  transport: string;
  attempts: Generated<number>;
  sent_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FailedJobsTable {
  id: string;
  job_id: string;
  lane: string;
  job_name: string;
  group_id: string;
  envelope: Json<Record<string, unknown>>;
  error: string;
  error_name: string;
  attempts: number;
  failed_at: Timestamp;
  retried_at: Date | null;
  retried_by: string | null;
  retry_job_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface IdentificationBatchesTable {
  id: string;
  user_id: string;
  status: "queued" | "processing" | "completed" | "failed";
  total: number;
  completed_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Date | null;
}

export interface IdentificationBatchItemsTable {
  batch_id: string;
  position: number;
  identification_id: string;
}

export interface BackgroundTables {
  notifications: NotificationsTable;
  email_deliveries: EmailDeliveriesTable;
  failed_jobs: FailedJobsTable;
  identification_batches: IdentificationBatchesTable;
  identification_batch_items: IdentificationBatchItemsTable;
}
