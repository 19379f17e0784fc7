/**
 * Contract test for src/infra/groupmq-keys.ts, pinned to the installed groupmq: groupmq itself writes the jobs
 * (enqueue, reserve, complete, its own delayed retry, its stall check) and the test finds them where the module
 * says they are, with the fields it names; then our own scripts (release, defer, group repair), which open with
 * the module's Lua prelude, move groupmq's jobs in ways groupmq then runs as its own.
 * Shared Redis, one fresh namespace per test.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Queue } from "groupmq";
import groupmqPackage from "groupmq/package.json" with { type: "json" };
import { Redis } from "ioredis";
import {
  countJobStart,
  deferredSince,
  GROUPMQ_CHECKED_VERSION,
  GROUPMQ_LUA_PRELUDE,
  groupmqKeys,
  groupmqNamespace,
  JOB_FIELD,
  JOB_STATUS,
  OWN_FIELD,
  readJobHash,
} from "../../src/infra/groupmq-keys.ts";
import { deferJob } from "../../workers/defer-job.ts";
import { repairGroups } from "../../workers/queue-repair.ts";
import { releaseJob } from "../../workers/release-job.ts";
import { waitFor } from "../helpers/app.ts";
import { testEnv } from "../helpers/env.ts";

const redis = new Redis(testEnv.redisUrl);
const namespaces: string[] = [];
afterAll(async () => {
  for (const ns of namespaces) {
    const keys = await redis.keys(`${ns}*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
});

type Payload = { n: number };
function freshQueue() {
  const raw = `test-groupmq-keys:${crypto.randomUUID()}`;
  const queue = new Queue<Payload>({ redis, namespace: raw, logger: false, jobTimeoutMs: 60_000 });
  namespaces.push(queue.namespace);
  return { queue, raw, keys: groupmqKeys(queue.namespace) };
}

async function enqueued(queue: Queue<Payload>, jobId: string, groupId = "g") {
  await queue.add({ groupId, data: { n: 1 }, jobId, maxAttempts: 3 });
}

async function reserved(queue: Queue<Payload>, jobId: string) {
  const job = await queue.reserve();
  expect(job?.id).toBe(jobId);
  if (!job) throw new Error("unreachable");
  return job;
}

describe(`groupmq ${groupmqPackage.version}'s Redis layout as src/infra/groupmq-keys.ts knows it`, () => {
  test("is the version the module was checked against", () => {
    expect(
      groupmqPackage.version,
      `groupmq ${groupmqPackage.version} is installed but src/infra/groupmq-keys.ts describes ` +
        `${GROUPMQ_CHECKED_VERSION}: re-read node_modules/groupmq/dist/lua against the module (and ` +
        `src/infra/groupmq-client.ts), then update GROUPMQ_CHECKED_VERSION`,
    ).toBe(GROUPMQ_CHECKED_VERSION);
  });

  test("our Lua prelude builds the same keys, fields and states as the TypeScript functions", async () => {
    const { queue, keys } = freshQueue();
    const lua = `${GROUPMQ_LUA_PRELUDE}
return { jobKey("j1"), processingKey, leaseKey("j1"), groupKey("g1"), groupActiveKey("g1"), groupsKey,
  readyKey, delayedKey, F.status, F.groupId, F.score, F.attempts, F.maxAttempts, F.data, F.failedReason,
  F.runAt, OWN.starts, OWN.deferredSince, S.waiting, S.processing, S.delayed, S.failed }`;
    expect(await redis.eval(lua, 1, queue.namespace)).toEqual([
      keys.job("j1"),
      keys.processing,
      keys.lease("j1"),
      keys.group("g1"),
      keys.groupActive("g1"),
      keys.groups,
      keys.ready,
      keys.delayed,
      ...Object.values(JOB_FIELD),
      ...Object.values(OWN_FIELD),
      ...Object.values(JOB_STATUS),
    ]);
  });

  test("an enqueued job: its hash, its group, the group set and the ready set", async () => {
    const { queue, raw, keys } = freshQueue();
    expect(queue.namespace).toBe(groupmqNamespace(raw));
    await enqueued(queue, "a", "g1");
    const hash = await redis.hgetall(keys.job("a"));
    expect(hash).toMatchObject({
      [JOB_FIELD.status]: JOB_STATUS.waiting,
      [JOB_FIELD.groupId]: "g1",
      [JOB_FIELD.attempts]: "0",
      [JOB_FIELD.maxAttempts]: "3",
      [JOB_FIELD.data]: JSON.stringify({ n: 1 }),
    });
    const score = Number(hash[JOB_FIELD.score]);
    expect(Number.isFinite(score)).toBe(true);
    expect(Number(await redis.zscore(keys.group("g1"), "a"))).toBe(score);
    expect(await redis.sismember(keys.groups, "g1")).toBe(1);
    expect(Number(await redis.zscore(keys.ready, "g1"))).toBe(score);
    expect(await readJobHash(redis, queue.namespace, "a")).toEqual({
      status: JOB_STATUS.waiting,
      attempts: 0,
      data: JSON.stringify({ n: 1 }),
      failedReason: undefined,
    });
    expect(await readJobHash(redis, queue.namespace, "missing")).toBeUndefined();
  });

  test("a reserved job is in the processing set with a lease and in its group's active list; completing clears them", async () => {
    const { queue, keys } = freshQueue();
    await enqueued(queue, "a");
    const job = await reserved(queue, "a");
    expect(await redis.hget(keys.job("a"), JOB_FIELD.status)).toBe(JOB_STATUS.processing);
    expect(await redis.zscore(keys.processing, "a")).not.toBeNull();
    expect(await redis.exists(keys.lease("a"))).toBe(1);
    expect(await redis.lrange(keys.groupActive("g"), 0, -1)).toEqual(["a"]);

    // What groupmq's worker calls when a handler returns.
    const now = Date.now();
    await queue.completeWithMetadata(job, null, {
      processedOn: now,
      finishedOn: now,
      attempts: 1,
      maxAttempts: 3,
    });
    expect(await redis.zscore(keys.processing, "a")).toBeNull();
    expect(await redis.exists(keys.lease("a"))).toBe(0);
    expect(await redis.llen(keys.groupActive("g"))).toBe(0);
    expect(await redis.zscore(keys.group("g"), "a")).toBeNull();
  });

  test("groupmq's own delayed retry: the job stays at its group's head, in the delayed set, marked delayed", async () => {
    const { queue, keys } = freshQueue();
    await enqueued(queue, "a");
    await reserved(queue, "a");
    await queue.retry("a", 60_000);
    const hash = await redis.hgetall(keys.job("a"));
    expect(hash[JOB_FIELD.status]).toBe(JOB_STATUS.delayed);
    expect(hash[JOB_FIELD.attempts]).toBe("1");
    const due = Number(await redis.zscore(keys.delayed, "a"));
    expect(Number(hash[JOB_FIELD.runAt])).toBe(due);
    expect(due).toBeGreaterThan(Date.now() + 30_000);
    expect(await redis.zscore(keys.group("g"), "a")).not.toBeNull();
    expect(await redis.zscore(keys.processing, "a")).toBeNull();
    expect(await redis.llen(keys.groupActive("g"))).toBe(0);
    // Our group repair leaves a group whose head waits for a retry alone (it would otherwise run early).
    await redis.zrem(keys.ready, "g");
    expect(await repairGroups(redis, queue.namespace, 10)).toBe(0);
    expect(await redis.zscore(keys.ready, "g")).toBeNull();
  });

  test("a job failed by the stall check keeps the fields a dead letter is made of", async () => {
    const { queue, keys } = freshQueue();
    await enqueued(queue, "a");
    await reserved(queue, "a");
    // Far enough in the future that the lease has run out, with one stall allowed.
    expect(await queue.checkStalledJobs(Date.now() + 120_000, 0, 1)).toEqual(["a", "g", "failed"]);
    const hash = await readJobHash(redis, queue.namespace, "a");
    expect(hash).toMatchObject({ status: JOB_STATUS.failed, attempts: 0, data: JSON.stringify({ n: 1 }) });
    expect(hash?.failedReason).toContain("stalled");
    expect(await redis.zscore(keys.processing, "a")).toBeNull();
  });

  test("releaseJob hands a running job back to the head of its group, undoing the counted start", async () => {
    const { queue, keys } = freshQueue();
    await enqueued(queue, "a");
    await enqueued(queue, "b");
    await reserved(queue, "a");
    expect(await countJobStart(redis, queue.namespace, "a")).toBe(1);
    expect(await releaseJob(redis, queue.namespace, "a", true)).toBe(true);
    expect(await redis.hget(keys.job("a"), OWN_FIELD.starts)).toBe("0");
    expect(await redis.hget(keys.job("a"), JOB_FIELD.status)).toBe(JOB_STATUS.waiting);
    expect(await redis.exists(keys.lease("a"))).toBe(0);
    expect(await redis.llen(keys.groupActive("g"))).toBe(0);
    // groupmq runs it again first, without an attempt spent.
    const again = await reserved(queue, "a");
    expect(again.attempts).toBe(0);
    expect(await releaseJob(redis, queue.namespace, "b", false)).toBe(false); // not running: not ours
  });

  test("deferJob moves a running job to the delayed set like groupmq's retry, without spending an attempt", async () => {
    const { queue, keys } = freshQueue();
    await enqueued(queue, "a");
    await reserved(queue, "a");
    await countJobStart(redis, queue.namespace, "a");
    const result = await deferJob(redis, queue.namespace, "a", { delayMs: 50, capMs: 60_000, counted: true });
    expect(result).toEqual({ kind: "deferred", waitedMs: 0 });
    const hash = await redis.hgetall(keys.job("a"));
    expect(hash).toMatchObject({
      [JOB_FIELD.status]: JOB_STATUS.delayed,
      [JOB_FIELD.attempts]: "0",
      [OWN_FIELD.starts]: "0",
    });
    expect(await redis.zscore(keys.delayed, "a")).toBe(hash[JOB_FIELD.runAt] ?? null);
    expect(await deferredSince(redis, queue.namespace, "a")).toBeGreaterThan(Date.now() - 60_000);
    // groupmq's worker promotes it once due (as before each reserve); it runs again on the same attempt.
    const again = await waitFor(
      async () => {
        await queue.promoteDelayedJobsBounded();
        return queue.reserve();
      },
      { what: "the deferred job to run again" },
    );
    expect(again).toMatchObject({ id: "a", attempts: 0 });
    expect(
      await deferJob(redis, queue.namespace, "b", { delayMs: 50, capMs: 60_000, counted: false }),
    ).toEqual({
      kind: "lost",
    });
  });

  test("repairGroups clears a stale active entry and puts a runnable group back in the ready set", async () => {
    const { queue, keys } = freshQueue();
    await enqueued(queue, "a");
    await reserved(queue, "a");
    // The stuck state of the upstream bug: a recovered job left in the active list, its group not ready.
    const score = Number(await redis.hget(keys.job("a"), JOB_FIELD.score));
    await redis.zrem(keys.processing, "a");
    await redis.zadd(keys.group("g"), score, "a");
    await redis.hset(keys.job("a"), JOB_FIELD.status, JOB_STATUS.waiting);
    await redis.zrem(keys.ready, "g");
    expect(await repairGroups(redis, queue.namespace, 10)).toBe(2);
    expect(await redis.llen(keys.groupActive("g"))).toBe(0);
    expect(await redis.zscore(keys.ready, "g")).not.toBeNull();
    await reserved(queue, "a");
  });
});
