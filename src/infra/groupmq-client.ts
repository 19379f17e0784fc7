/**
 * What we know about how groupmq talks to Redis, in one place (checked against GROUPMQ_CHECKED_VERSION in
 * groupmq-keys.ts, which owns its key layout; re-check both when upgrading groupmq):
 *
 * - It loads each Lua script once per client with `SCRIPT LOAD`, caches the SHA in a WeakMap keyed by the
 *   client, and from then on only calls `EVALSHA`. After a Redis restart or a Sentinel failover the server's
 *   script cache is empty, every call answers `NOSCRIPT`, and groupmq never loads the script again: every
 *   enqueue fails and workers spin, while the socket looks healthy. `reloadScriptsOnNoscript` fixes that on
 *   the client we hand groupmq: it remembers each script's source as groupmq loads it and answers a `NOSCRIPT`
 *   with `EVAL` of that source (which also puts the script back in the server's cache for the next `EVALSHA`).
 * - Several workers block on one lane's ready set. A group whose head job is running (or delayed for a retry)
 *   stays in that set by design, so the others pop it, fail to reserve it, put it back and log "Blocking found
 *   group but reserve failed" (then "Not restoring empty group" when another worker took the last job) at warn
 *   level, several times per job. That is its normal flow, not a fault:
 *   `isRoutineGroupmqWarning` lets our logger keep it at debug.
 * - `getActiveCount()` runs one small script (ZCARD of the processing set): the canary that proves the lane's
 *   scripts run on this client, not only that the socket is open.
 */
import type { Queue } from "groupmq";
import type { Redis } from "ioredis";

type Eval = (...args: (string | number | Buffer)[]) => Promise<unknown>;

const patched = new WeakSet<Redis>();

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/** Makes `client` survive an emptied script cache (restart, failover, SCRIPT FLUSH). Idempotent. */
export function reloadScriptsOnNoscript(client: Redis, onReload?: (sha: string) => void): Redis {
  if (patched.has(client)) return client;
  patched.add(client);
  const sources = new Map<string, string>();
  const script = client.script.bind(client) as unknown as Eval;
  const evalsha = client.evalsha.bind(client) as unknown as Eval;
  const evalLua = client.eval.bind(client) as unknown as Eval;
  Object.assign(client, {
    async script(...args: (string | Buffer)[]) {
      const result = await script(...args);
      if (String(args[0]).toLowerCase() === "load" && typeof result === "string" && args[1] !== undefined)
        sources.set(result, String(args[1]));
      return result;
    },
    async evalsha(sha: string, ...rest: (string | number | Buffer)[]) {
      try {
        return await evalsha(sha, ...rest);
      } catch (error) {
        const lua = sources.get(String(sha));
        if (!lua || !isNoScript(error)) throw error;
        onReload?.(String(sha));
        return evalLua(lua, ...rest);
      }
    },
  });
  return client;
}

// The race and its two endings (the group still holds jobs and is put back, or another worker emptied it).
const ROUTINE_WARNINGS = [
  /^Blocking found group but reserve failed/,
  /^Restored group .* after failed atomic reserve/,
  /^Not restoring empty group /,
];

/** groupmq warnings that describe its normal flow (see above), not a fault. */
export function isRoutineGroupmqWarning(message: string): boolean {
  return ROUTINE_WARNINGS.some((re) => re.test(message));
}

/** Runs one of groupmq's own scripts on the lane's client: fails while the lane cannot run its scripts. */
export async function laneCanary(queue: Pick<Queue<unknown>, "getActiveCount">): Promise<void> {
  await queue.getActiveCount();
}
