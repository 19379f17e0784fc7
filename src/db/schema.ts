import type { ColumnType, Generated } from "kysely";
import type { AccountDataTables } from "./schema-account-data.ts";
import type { BackgroundTables } from "./schema-background.ts";
import type { CspTables } from "./schema-csp.ts";
import type { ModelTables } from "./schema-models.ts";
import type { PhotoTables } from "./schema-photos.ts";
import type { UploadTables } from "./schema-uploads.ts";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type CareInstructions = {
  watering: string;
  light: string;
  temperature: string;
  humidity: string;
  soil: string;
  fertilizing: string;
  toxicity: string;
};

export interface SpeciesTable {
  id: string;
  scientific_name: string;
  common_names: string[];
  family: string;
  genus: string;
  category: string;
  care: CareInstructions;
  search_text: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  display_name: string;
  role: Generated<"user" | "premium" | "admin">;
  preferences: ColumnType<
    Record<string, unknown>,
    Record<string, unknown> | undefined,
    Record<string, unknown>
  >;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Date | null;
  /** Null until the owner follows the link e-mailed at registration (or resets the password by e-mail). */
  email_verified_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Set by DELETE /v1/me (now + grace): the account.erase job erases the data after it, then sets erased_at. */
  erase_after: ColumnType<Date | null, Date | null | undefined, Date | null>;
  erased_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface EmailTokensTable {
  id: string;
  user_id: string;
  purpose: "verify_email" | "reset_password";
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  created_at: Timestamp;
}

export interface IdentificationsTable {
  id: string;
  user_id: string;
  status: string;
  is_plant: boolean | null;
  confidence: number | null;
  top_species_id: string | null;
  model_version: string | null;
  request: ColumnType<unknown, unknown, unknown>;
  result: unknown;
  /** Why a queued identification failed: `{ code, message }` (background jobs). */
  failure: ColumnType<
    { code: string; message: string } | null,
    { code: string; message: string } | null | undefined,
    { code: string; message: string } | null
  >;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Date | null;
  /** The experiment and variant the owner was assigned to (models module), null outside experiments. */
  experiment_id: ColumnType<string | null, string | null | undefined, string | null>;
  variant: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MediaTable {
  id: string;
  identification_id: string;
  position: number;
  storage_key: string;
  thumbnail_key: string;
  content_type: string;
  byte_size: number;
  width: number;
  height: number;
  sha256: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Date | null;
  /** Set by the media.purge job once the stored objects are gone. */
  purged_at: Date | null;
}

export interface RefreshTokensTable {
  id: string;
  family_id: string;
  user_id: string;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  scopes: string[];
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AuditLogTable {
  id: string;
  actor_type: "user" | "api_key" | "system" | "anonymous";
  actor_user_id: string | null;
  actor_api_key_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  ip: string | null;
  request_id: string | null;
  changes: ColumnType<Record<string, unknown>, Record<string, unknown> | string | undefined, never>;
  created_at: Timestamp;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  operation: string;
  request_hash: string;
  response_status: number;
  response_body: unknown;
  resource_id: string | null;
  created_at: Timestamp;
  expires_at: Date;
}

export interface Database
  extends BackgroundTables,
    CspTables,
    PhotoTables,
    ModelTables,
    AccountDataTables,
    UploadTables {
  email_tokens: EmailTokensTable;
  idempotency_keys: IdempotencyKeysTable;
  refresh_tokens: RefreshTokensTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  species: SpeciesTable;
  users: UsersTable;
  identifications: IdentificationsTable;
  media: MediaTable;
}
