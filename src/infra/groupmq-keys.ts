/**
 * groupmq's internal Redis layout, the one place that spells it (checked against GROUPMQ_CHECKED_VERSION; the
 * contract test tests/infra/groupmq-keys.test.ts fails on any other installed version, so an upgrade forces a
 * re-check of this file against groupmq's dist/lua scripts).
 *
 * groupmq has no API for what we need around it (hand a job back without spending an attempt, defer it past an
 * open breaker, repair stuck groups, read a job it failed for stalling, count a job's starts), so our scripts
 * and a few reads touch its keys directly. TypeScript uses `groupmqKeys()`; our Lua scripts start with
 * `GROUPMQ_LUA_PRELUDE`, built from the same constants, and pass the queue's namespace as KEYS[1].
 */
import type { Redis } from "ioredis";

/** The groupmq version this layout was read from (node_modules/groupmq/dist/lua). */
export const GROUPMQ_CHECKED_VERSION = "1.1.0";

/** groupmq prefixes the namespace a Queue is given: `Queue.namespace` is `groupmq:<rawNamespace>`. */
const NAMESPACE_PREFIX = "groupmq:";

/** Key segments after `<namespace>:`. */
const SEGMENT = {
  job: "job", // hash per job: `<ns>:job:<jobId>`
  processing: "processing", // zset of running job ids; `<ns>:processing:<jobId>` is a running job's lease
  group: "g", // zset of a group's jobs by order score: `<ns>:g:<groupId>`; its running job ids: `...:active`
  groupActive: "active",
  groups: "groups", // set of group ids that hold jobs
  ready: "ready", // zset of runnable group ids, scored by their head job's score
  delayed: "delayed", // zset of job ids waiting for a retry, scored by when they run
} as const;

/** Fields of groupmq's job hash that our code reads or writes. */
export const JOB_FIELD = {
  status: "status",
  groupId: "groupId",
  score: "score", // the job's place in its group
  attempts: "attempts", // attempts spent before the current run
  maxAttempts: "maxAttempts",
  data: "data", // the payload as JSON
  failedReason: "failedReason",
  runAt: "runAt", // a delayed job's due time (ms)
} as const;

/** Fields we add to groupmq's job hash (`pc` = Plant Community; groupmq never reads them). */
export const OWN_FIELD = {
  /** Runs started, counted by the lane worker: starts beyond the attempts are crashes of a worker. */
  starts: "pcStarts",
  /** When the job was first deferred (ms), to cap its total wait across deferrals. */
  deferredSince: "pcDeferredSince",
} as const;

/** Values of the job hash's `status` field that our code relies on. */
export const JOB_STATUS = {
  waiting: "waiting",
  processing: "processing",
  delayed: "delayed",
  failed: "failed",
} as const;

/** The namespace groupmq's keys start with, for a Queue created with `namespace: rawNamespace`. */
export function groupmqNamespace(rawNamespace: string): string {
  return `${NAMESPACE_PREFIX}${rawNamespace}`;
}

/** The keys of one queue; `namespace` is `Queue.namespace` (already prefixed by groupmq). */
export function groupmqKeys(namespace: string) {
  const at = (...parts: string[]) => [namespace, ...parts].join(":");
  return {
    job: (jobId: string) => at(SEGMENT.job, jobId),
    processing: at(SEGMENT.processing),
    lease: (jobId: string) => at(SEGMENT.processing, jobId),
    group: (groupId: string) => at(SEGMENT.group, groupId),
    groupActive: (groupId: string) => at(SEGMENT.group, groupId, SEGMENT.groupActive),
    groups: at(SEGMENT.groups),
    ready: at(SEGMENT.ready),
    delayed: at(SEGMENT.delayed),
  };
}

const lua = (s: string) => JSON.stringify(s); // our constants are plain ASCII: a JSON string is a Lua string
const luaTable = (o: Record<string, string>) =>
  `{ ${Object.entries(o)
    .map(([k, v]) => `${k} = ${lua(v)}`)
    .join(", ")} }`;

/**
 * Opening of each of our Lua scripts on groupmq's keys (KEYS[1] = `Queue.namespace`): the same layout as
 * `groupmqKeys`, as Lua locals; `F` / `OWN` / `S` are JOB_FIELD / OWN_FIELD / JOB_STATUS.
 */
export const GROUPMQ_LUA_PRELUDE = `
local ns = KEYS[1]
local function jobKey(jobId) return ns .. ":" .. ${lua(SEGMENT.job)} .. ":" .. jobId end
local processingKey = ns .. ":" .. ${lua(SEGMENT.processing)}
local function leaseKey(jobId) return processingKey .. ":" .. jobId end
local function groupKey(gid) return ns .. ":" .. ${lua(SEGMENT.group)} .. ":" .. gid end
local function groupActiveKey(gid) return groupKey(gid) .. ":" .. ${lua(SEGMENT.groupActive)} end
local groupsKey = ns .. ":" .. ${lua(SEGMENT.groups)}
local readyKey = ns .. ":" .. ${lua(SEGMENT.ready)}
local delayedKey = ns .. ":" .. ${lua(SEGMENT.delayed)}
local F = ${luaTable(JOB_FIELD)}
local OWN = ${luaTable(OWN_FIELD)}
local S = ${luaTable(JOB_STATUS)}
`;

/** What our code reads of a job hash; undefined when the job is gone. */
export type GroupmqJobHash = {
  status: string | undefined;
  attempts: number;
  /** The raw JSON payload as groupmq stored it. */
  data: string | undefined;
  failedReason: string | undefined;
};

export async function readJobHash(
  redis: Redis,
  namespace: string,
  jobId: string,
): Promise<GroupmqJobHash | undefined> {
  const hash = await redis.hgetall(groupmqKeys(namespace).job(jobId));
  if (Object.keys(hash).length === 0) return undefined;
  return {
    status: hash[JOB_FIELD.status],
    attempts: Number(hash[JOB_FIELD.attempts] ?? 0),
    data: hash[JOB_FIELD.data],
    failedReason: hash[JOB_FIELD.failedReason],
  };
}

/** Counts one more start of the job's run (lane-worker.ts); returns the starts so far. */
export async function countJobStart(redis: Redis, namespace: string, jobId: string): Promise<number> {
  return redis.hincrby(groupmqKeys(namespace).job(jobId), OWN_FIELD.starts, 1);
}

/** When the job was first deferred (ms since epoch), NaN when it never was. */
export async function deferredSince(redis: Redis, namespace: string, jobId: string): Promise<number> {
  return Number(await redis.hget(groupmqKeys(namespace).job(jobId), OWN_FIELD.deferredSince));
}
