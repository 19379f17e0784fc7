import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { perRegistry } from "./per-registry.ts";

export type QueueMetrics = ReturnType<typeof build>;

/** Job metrics, registered once on the process's registry (the API enqueues, the workers run). */
export const queueMetrics: (registry: Registry) => QueueMetrics = perRegistry(build);

function build(registry: Registry) {
  const registers = [registry];
  return {
    enqueued: new Counter({
      name: "queue_jobs_enqueued_total",
      help: "Jobs added, by lane and job name.",
      labelNames: ["lane", "job"] as const,
      registers,
    }),
    finished: new Counter({
      name: "queue_jobs_finished_total",
      help: "Job runs that ended, by lane, job and outcome (completed, retry, deferred, failed, timeout, invalid).",
      labelNames: ["lane", "job", "outcome"] as const,
      registers,
    }),
    waitSeconds: new Histogram({
      name: "queue_job_wait_seconds",
      help: "Time from enqueue (or the end of a retry backoff) to the start of a run, by lane.",
      labelNames: ["lane"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers,
    }),
    runSeconds: new Histogram({
      name: "queue_job_run_seconds",
      help: "Handler run time, by lane and job.",
      labelNames: ["lane", "job"] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers,
    }),
    inFlight: new Gauge({
      name: "queue_jobs_in_flight",
      help: "Jobs this worker process is running, by lane.",
      labelNames: ["lane"] as const,
      registers,
    }),
    deadLetters: new Counter({
      name: "queue_dead_letters_total",
      help: "Jobs that used all their attempts and were kept in failed_jobs.",
      labelNames: ["lane", "job"] as const,
      registers,
    }),
    repairs: new Counter({
      name: "queue_group_repairs_total",
      help: "Stuck groupmq groups (stale active entries, lost ready entries) repaired by the workers.",
      labelNames: ["lane"] as const,
      registers,
    }),
    redeliveries: new Counter({
      name: "queue_redeliveries_total",
      help: "Job runs that started again after their worker died mid-run (crash, kill, lost lease).",
      labelNames: ["lane"] as const,
      registers,
    }),
  };
}
