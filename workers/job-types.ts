import type { Deps } from "../src/deps.ts";
import type { JobName, JobPayload } from "../src/infra/job-catalogue.ts";
import type { Logger } from "../src/infra/logger.ts";
import type { Mailer } from "../src/infra/mailer.ts";
import type { Lane } from "../src/infra/queues.ts";
import type { Services } from "../src/services.ts";

/** The API's deps plus what only workers use, and the same services as the API (src/services.ts). */
export type WorkerDeps = Deps & { mailer: Mailer; services: Services };

export type JobContext = {
  /** Aborted at the lane's time limit, and when a draining worker hands the job back. */
  signal: AbortSignal;
  /** 1 for the first run. */
  attempt: number;
  maxAttempts: number;
  jobId: string;
  lane: Lane;
  logger: Logger;
  traceparent?: string;
};

export type JobDefinition<N extends JobName> = {
  run(deps: WorkerDeps, payload: JobPayload<N>, ctx: JobContext): Promise<unknown>;
  /** Called once the job used all its attempts (after it is kept in failed_jobs): tell the user, mark state. */
  onDeadLetter?(deps: WorkerDeps, payload: JobPayload<N>, error: Error): Promise<void>;
};

export type JobRegistry = { [N in JobName]: JobDefinition<N> };
