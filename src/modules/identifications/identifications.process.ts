import type { Deps } from "../../deps.ts";
import { identificationMetrics } from "../../infra/identification-metrics.ts";
import { encodeForProviders } from "../../infra/images/image-pipeline.ts";
import { allProvidersOpenFor } from "../../infra/providers/breakers.ts";
import { unavailableRetryAfter } from "../../infra/providers/identify-contract.ts";
import { spendingFor } from "../../infra/providers/user-budget.ts";
import type { BlobStore } from "../../infra/storage/index.ts";
import {
  completeIdentification,
  failIdentification,
  findIdentificationForJob,
  type IdentificationRequest,
  markIdentificationProcessing,
} from "../identification-batches/queued-identifications.repo.ts";
import { observeIdentification } from "../models/experiment-observe.ts";
import { assignmentOf } from "../models/experiment-plan.ts";
import { recordModelCalls, recordShadowsLater } from "../models/model-calls.ts";
import { type JobDeps, ProvidersUnavailableError } from "./identifications.jobs.ts";
import { findSpeciesIdsByName, listMediaOf } from "./identifications.repo.ts";
import { buildResult, mergedSuggestions } from "./identifications.result.ts";

// The worker side of a queued identification: ask the providers about stored photos, record the outcome.

export type ProcessOutcome =
  | { status: "completed"; topSpeciesId: string | null; scientificName: string | null }
  | { status: "skipped"; reason: "deleted" | "missing" };

async function readStored(store: BlobStore, key: string): Promise<Uint8Array> {
  const blob = await store.get(key);
  if (!blob) throw new Error(`stored image ${key} is missing`);
  if (blob.body instanceof Uint8Array) return blob.body;
  return new Uint8Array(await new Response(blob.body).arrayBuffer());
}

/**
 * Asks the providers about a stored, queued identification and records the result. Safe to run twice: a
 * completed identification is answered from its row, a deleted one is skipped.
 */
export async function processQueuedIdentification(
  deps: JobDeps,
  id: string,
  signal: AbortSignal,
): Promise<ProcessOutcome> {
  const db = deps.db.primary;
  const row = await findIdentificationForJob(db, id);
  if (!row) return { status: "skipped", reason: "missing" };
  if (row.deleted_at) return { status: "skipped", reason: "deleted" };
  if (row.status === "completed") return completedOutcome(row.top_species_id, row.result);
  if (!(await markIdentificationProcessing(db, id))) return { status: "skipped", reason: "deleted" };

  const media = await listMediaOf(db, [id]);
  const request = row.request as IdentificationRequest;
  const limits = deps.config.uploads;
  const assignment = await assignmentOf(db, row);
  let providerImages: Promise<Uint8Array[]> | undefined;
  // Provider calls count against the owner's daily budget, as they do for a request (provider-budget.ts).
  const outcome = await spendingFor(row.user_id, () =>
    deps.providers.identifier.identify(
      {
        imageHashes: media.map((m) => m.sha256),
        providerImages: () =>
          (providerImages ??= Promise.all(
            media.map(async (m) => encodeForProviders(await readStored(deps.storage, m.storage_key), limits)),
          )),
        organs: request.organs,
        latitude: request.latitude ?? undefined,
        longitude: request.longitude ?? undefined,
        includeHealth: request.includeHealth,
      },
      assignment.plan,
    ),
  );
  signal.throwIfAborted();
  const retryAfter = unavailableRetryAfter(outcome);
  if (retryAfter !== undefined) {
    // Breakers open now (this run's failures may have opened them, or a half-open probe failed): the job waits
    // for their retry time instead of spending an attempt on a call that cannot be made.
    const openFor = allProvidersOpenFor(deps.breakers, deps.providers.isConfigured);
    throw openFor !== undefined
      ? new ProvidersUnavailableError(openFor, true)
      : new ProvidersUnavailableError(retryAfter);
  }
  const merged = mergedSuggestions(outcome, assignment.merge);
  const speciesIds = await findSpeciesIdsByName(
    db,
    merged.map((s) => s.scientificName),
  );
  const result = buildResult(outcome, merged, speciesIds);
  const topSpeciesId = result.suggestions[0]?.speciesId ?? null;
  const completed = await db.transaction().execute(async (trx) => {
    const done = await completeIdentification(trx, id, {
      isPlant: result.isPlant,
      confidence: result.confidence,
      topSpeciesId,
      modelVersion: result.modelVersion,
      result,
      experimentId: assignment.experimentId,
      variant: assignment.variant,
    });
    if (done) await recordModelCalls(trx, id, outcome.calls);
    return done;
  });
  if (completed) {
    observeIdentification(deps.metrics, assignment, outcome.calls, result.confidence);
    await recordShadowsLater(
      { db, logger: deps.logger, metrics: deps.metrics },
      id,
      outcome.shadows,
      assignment.variant,
    );
  }
  deps.metrics.identificationsSuccess.inc();
  identificationMetrics(deps.metrics.registry).duration.observe(
    { mode: "async" },
    Math.max(0, Date.now() - row.created_at.getTime()) / 1000,
  );
  return completedOutcome(topSpeciesId, result);
}

function completedOutcome(topSpeciesId: string | null, result: unknown): ProcessOutcome {
  const top = (result as { suggestions?: { scientificName?: string }[] } | null)?.suggestions?.[0];
  return { status: "completed", topSpeciesId, scientificName: top?.scientificName ?? null };
}

/** The job gave up: the owner sees `failed` with a reason (a later redrive can still complete it). */
export async function failQueuedIdentification(
  deps: Pick<Deps, "db">,
  id: string,
  error: Error,
): Promise<boolean> {
  const failure =
    error instanceof ProvidersUnavailableError || error.cause instanceof ProvidersUnavailableError
      ? { code: "providers_unavailable", message: "Neither identification provider was available." }
      : error.name === "JobTimeoutError"
        ? { code: "timeout", message: "The identification took too long." }
        : { code: "processing_failed", message: "The identification could not be completed." };
  return failIdentification(deps.db.primary, id, failure);
}
