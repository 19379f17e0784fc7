import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { findExperiment, findRunningExperiment } from "./models.repo.ts";
import type { PerformanceQuery, PerformanceReport } from "./models.schemas.ts";
import { type FigureRow, modelFigures, variantFigures } from "./performance.repo.ts";
import { twoProportionTest, wilsonInterval } from "./stats.ts";

const EMPTY: FigureRow = {
  count: 0,
  meanConfidence: null,
  highConfidenceRate: null,
  latencyP50Ms: null,
  latencyP95Ms: null,
  failureRate: null,
  feedbackCount: 0,
  feedbackCorrect: 0,
};

function reported({ feedbackCorrect, ...f }: FigureRow) {
  return {
    ...f,
    accuracy: f.feedbackCount > 0 ? feedbackCorrect / f.feedbackCount : null,
    accuracyInterval: wilsonInterval(feedbackCorrect, f.feedbackCount),
  };
}

/**
 * Per model version and per variant: volume, confidence, latency, failures and feedback accuracy (95 % Wilson
 * interval), each variant's accuracy against the control's (two-proportion z-test). Read on the replica: an
 * operator report tolerates its lag, and it must not load the primary.
 */
export function createPerformanceService(deps: Pick<Deps, "db">) {
  return {
    async report(query: PerformanceQuery, clientKey: string): Promise<PerformanceReport> {
      return deps.db.read(clientKey, async (db) => {
        const experiment = query.experiment
          ? await findExperiment(db, query.experiment)
          : await findRunningExperiment(db);
        if (query.experiment && !experiment) throw new AppError("not_found", "No experiment with this id.");
        const filter = { from: query.from, to: query.to, experimentId: query.experiment };
        const models = await modelFigures(db, filter);
        const byVariant = experiment
          ? new Map(
              (await variantFigures(db, { ...filter, experimentId: experiment.id })).map((r) => [
                r.variant,
                r,
              ]),
            )
          : new Map<string, FigureRow>();
        const control = experiment?.variants.find((v) => v.is_control);
        const controlFigures = (control && byVariant.get(control.key)) ?? EMPTY;
        return {
          from: query.from ?? null,
          to: query.to ?? null,
          experiment: experiment?.id ?? null,
          models: models.map(({ modelId, provider, version, role, ...f }) => ({
            modelId,
            provider,
            version,
            role,
            ...reported(f),
          })),
          variants: (experiment?.variants ?? []).map((v) => {
            const f = byVariant.get(v.key) ?? EMPTY;
            const test = v.is_control
              ? null
              : twoProportionTest(
                  f.feedbackCorrect,
                  f.feedbackCount,
                  controlFigures.feedbackCorrect,
                  controlFigures.feedbackCount,
                );
            return {
              variant: v.key,
              control: v.is_control,
              ...reported(f),
              versusControl: test && {
                difference:
                  f.feedbackCorrect / f.feedbackCount -
                  controlFigures.feedbackCorrect / controlFigures.feedbackCount,
                z: test.z,
                pValue: test.pValue,
              },
            };
          }),
        };
      });
    },
  };
}
