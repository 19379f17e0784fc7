import type { ColumnType, Generated } from "kysely";

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
  preferences: ColumnType<Record<string, unknown>, Record<string, unknown> | undefined, Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Date | null;
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
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Date | null;
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
}

export interface Database {
  species: SpeciesTable;
  users: UsersTable;
  identifications: IdentificationsTable;
  media: MediaTable;
}
