import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, T, T>;

export type ModelStatus = "active" | "shadow" | "retired";
export type ModelSettingsJson = { project?: string; classificationLevel?: "species" | "all" | "genus" };

export interface ModelsTable {
  id: string;
  provider: string;
  version: string;
  settings: Json<ModelSettingsJson>;
  status: ModelStatus;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ExperimentsTable {
  id: string;
  name: string;
  status: "running" | "stopped";
  created_at: Timestamp;
  updated_at: Timestamp;
  stopped_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type BucketRange = [start: number, end: number];

export interface ExperimentVariantsTable {
  experiment_id: string;
  key: string;
  position: number;
  is_control: boolean;
  weight: number;
  buckets: Json<BucketRange[]>;
  model_ids: string[];
  shadow_model_ids: ColumnType<string[], string[] | undefined, string[]>;
  merge: "combined" | "first_answer";
}

export type CallRole = "answer" | "shadow" | "health";
export type CallOutcome = "ok" | "no_match" | "failed" | "skipped" | "circuit_open";

export interface IdentificationModelCallsTable {
  id: string;
  identification_id: string;
  model_id: string | null;
  provider: string;
  model_version: string | null;
  role: CallRole;
  outcome: CallOutcome;
  cached: boolean;
  confidence: number | null;
  top_name: string | null;
  latency_ms: number | null;
  metadata: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface IdentificationFeedbackTable {
  identification_id: string;
  user_id: string;
  correct: boolean;
  species_id: string | null;
  truth_name: string | null;
  shown_name: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ModelTables {
  models: ModelsTable;
  experiments: ExperimentsTable;
  experiment_variants: ExperimentVariantsTable;
  identification_model_calls: IdentificationModelCallsTable;
  identification_feedback: IdentificationFeedbackTable;
}
