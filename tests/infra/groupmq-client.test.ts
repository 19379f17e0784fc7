/**
 * Contract test for what src/infra/groupmq-client.ts knows about groupmq (pinned to the installed version):
 * groupmq keeps its scripts' SHAs per client and never reloads them, so an emptied script cache breaks a plain
 * client for good; the client we give it recovers. Runs on a redis-server of its own (SCRIPT FLUSH on the
 * shared Redis would break every other suite's queues).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Queue } from "groupmq";
import groupmqPackage from "groupmq/package.json" with { type: "json" };
import { Redis } from "ioredis";
import { laneCanary, reloadScriptsOnNoscript } from "../../src/infra/groupmq-client.ts";
import { GROUPMQ_CHECKED_VERSION } from "../../src/infra/groupmq-keys.ts";
import { type RedisProcess, startRedis } from "../helpers/servers/redis.ts";

let redis: RedisProcess;
const clients: Redis[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

function queueOn(client: Redis) {
  clients.push(client);
  return new Queue<{ n: number }>({
    redis: client,
    namespace: `contract:${crypto.randomUUID()}`,
    logger: false,
  });
}

const add = (q: Queue<{ n: number }>, n: number) => q.add({ groupId: "g", data: { n }, jobId: `job-${n}` });

describe(`groupmq ${groupmqPackage.version} and the Redis script cache`, () => {
  test("is the version this knowledge was checked against", () => {
    expect(groupmqPackage.version, "re-check src/infra/groupmq-client.ts and groupmq-keys.ts").toBe(
      GROUPMQ_CHECKED_VERSION,
    );
  });

  test("a plain client stays broken after the server's scripts are flushed (NOSCRIPT, never reloaded)", async () => {
    const q = queueOn(new Redis(redis.url));
    await add(q, 1);
    await q.redis.script("FLUSH");
    await expect(add(q, 2)).rejects.toThrow(/NOSCRIPT/);
    await expect(add(q, 3)).rejects.toThrow(/NOSCRIPT/);
  });

  test("the client we hand groupmq reloads each script on NOSCRIPT and keeps working", async () => {
    const reloaded: string[] = [];
    const q = queueOn(reloadScriptsOnNoscript(new Redis(redis.url), (sha) => reloaded.push(sha)));
    await add(q, 1);
    await laneCanary(q);
    await q.redis.script("FLUSH");
    await add(q, 2);
    await laneCanary(q);
    expect(reloaded.length).toBe(2); // enqueue's script and the canary's, once each
    await add(q, 3); // the script is cached on the server again: no second reload
    expect(reloaded.length).toBe(2);
    expect(await q.getWaitingCount()).toBe(3);
  });
});
