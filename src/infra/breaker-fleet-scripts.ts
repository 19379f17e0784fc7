import type { Redis } from "ioredis";
import type { BreakerState } from "./breaker.ts";

// The fleet breaker's Redis side: the state and window live in Redis and change only inside these scripts, so
// every instance sees one atomic decision per call. See breaker-fleet.ts for the design.

const LUA_COMMON = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[5])
local function load()
  local v = redis.call('HMGET', KEYS[1], 'state', 'gen', 'openUntil', 'changedAt', 'consecutive', 'successes')
  return { state = v[1] or 'closed', gen = tonumber(v[2]) or 0, openUntil = tonumber(v[3]) or 0,
    changedAt = tonumber(v[4]) or 0, consecutive = tonumber(v[5]) or 0, successes = tonumber(v[6]) or 0 }
end
local function save(h)
  redis.call('HSET', KEYS[1], 'state', h.state, 'gen', h.gen, 'openUntil', h.openUntil, 'changedAt', h.changedAt,
    'consecutive', h.consecutive, 'successes', h.successes)
  redis.call('PEXPIRE', KEYS[1], ttl)
end
local function move(h, to, reason)
  local from = h.state
  h.state, h.gen, h.changedAt, h.consecutive, h.successes = to, h.gen + 1, now, 0, 0
  if to == 'open' then h.openUntil = now + tonumber(ARGV[6]) end
  redis.call('DEL', KEYS[3])
  save(h)
  redis.call('PUBLISH', ARGV[3], cjson.encode({ breaker = ARGV[2], origin = ARGV[4], from = from, to = to,
    reason = reason, gen = h.gen, changedAt = now, openUntil = h.openUntil }))
  return { from, to, reason }
end
-- Buckets live in one hash as c:<epoch> / f:<epoch>; the same bucketing as breaker-window.ts.
local function window(bucketMs, buckets, record, failed)
  local epoch = math.floor(now / bucketMs)
  if record then
    redis.call('HINCRBY', KEYS[3], 'c:' .. epoch, 1)
    if failed then redis.call('HINCRBY', KEYS[3], 'f:' .. epoch, 1) end
    redis.call('PEXPIRE', KEYS[3], ttl)
  end
  local calls, failures = 0, 0
  local fields = redis.call('HGETALL', KEYS[3])
  for i = 1, #fields, 2 do
    local kind, e = string.match(fields[i], '^(%a):(%d+)$')
    e = tonumber(e)
    if e == nil or e <= epoch - buckets then redis.call('HDEL', KEYS[3], fields[i])
    elseif kind == 'c' then calls = calls + tonumber(fields[i + 1])
    else failures = failures + tonumber(fields[i + 1]) end
  end
  return calls, failures
end
local function reply(h, allowed, retryIn, calls, failures, t)
  t = t or { '', '', '' }
  return { allowed, h.state, h.gen, h.changedAt, h.openUntil, h.consecutive, calls, failures, retryIn, t[1], t[2], t[3] }
end
`;

// ARGV: now, name, channel, instanceId, ttlMs, coolDownMs, maxProbes, leaseMs, probeId, bucketMs, buckets
const ACQUIRE_LUA = `${LUA_COMMON}
local h = load()
local t
if h.state == 'open' and now >= h.openUntil then t = move(h, 'half_open', 'cool-down elapsed') end
local allowed, retryIn = 1, 0
if h.state == 'open' then
  allowed, retryIn = 0, h.openUntil - now
elseif h.state == 'half_open' then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7]) then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    allowed, retryIn = 0, math.max(1, tonumber(first[2]) - now)
  else
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[8]), ARGV[9])
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
local calls, failures = window(tonumber(ARGV[10]), tonumber(ARGV[11]), false, false)
return reply(h, allowed, retryIn, calls, failures, t)
`;

// ARGV: now, name, channel, instanceId, ttlMs, coolDownMs, generation, probeId, failed,
//       consecutiveFailures, failureRatio, minimumCalls, bucketMs, buckets, halfOpenSuccesses
const RECORD_LUA = `${LUA_COMMON}
local h = load()
local heldLease = redis.call('ZREM', KEYS[2], ARGV[8]) == 1
local failed = ARGV[9] == '1'
local t
if tonumber(ARGV[7]) == h.gen then
  if h.state == 'closed' then
    local calls, failures = window(tonumber(ARGV[13]), tonumber(ARGV[14]), true, failed)
    if failed then h.consecutive = h.consecutive + 1 else h.consecutive = 0 end
    if h.consecutive >= tonumber(ARGV[10]) then
      t = move(h, 'open', h.consecutive .. ' consecutive failures')
    elseif calls >= tonumber(ARGV[12]) and failures / calls >= tonumber(ARGV[11]) then
      t = move(h, 'open', failures .. ' of ' .. calls .. ' calls failed')
    else
      save(h)
    end
  elseif h.state == 'half_open' and heldLease then
    if failed then
      t = move(h, 'open', 'probe failed')
    else
      h.successes = h.successes + 1
      if h.successes >= tonumber(ARGV[15]) then t = move(h, 'closed', h.successes .. ' probes succeeded') else save(h) end
    end
  end
end
local calls, failures = window(tonumber(ARGV[13]), tonumber(ARGV[14]), false, false)
return reply(h, 1, 0, calls, failures, t)
`;

export type ScriptArg = string | number;
export interface BreakerCommands {
  circuitBreakerAcquire(k1: string, k2: string, k3: string, ...argv: ScriptArg[]): Promise<unknown>;
  circuitBreakerRecord(k1: string, k2: string, k3: string, ...argv: ScriptArg[]): Promise<unknown>;
}

const withScripts = new WeakSet<Redis>();
export function scriptsOn(redis: Redis): BreakerCommands {
  if (!withScripts.has(redis)) {
    redis.defineCommand("circuitBreakerAcquire", { numberOfKeys: 3, lua: ACQUIRE_LUA });
    redis.defineCommand("circuitBreakerRecord", { numberOfKeys: 3, lua: RECORD_LUA });
    withScripts.add(redis);
  }
  return redis as unknown as BreakerCommands;
}

export interface FleetState {
  state: BreakerState;
  gen: number;
  changedAt: number;
  openUntil: number;
  consecutive: number;
  calls: number;
  failures: number;
}

export interface ScriptReply extends FleetState {
  allowed: boolean;
  retryInMs: number;
  transition?: { from: BreakerState; to: BreakerState; reason: string };
}

export function parseReply(raw: unknown): ScriptReply {
  const r = raw as [
    number,
    BreakerState,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    string,
    string,
    string,
  ];
  return {
    allowed: r[0] === 1,
    state: r[1],
    gen: Number(r[2]),
    changedAt: Number(r[3]),
    openUntil: Number(r[4]),
    consecutive: Number(r[5]),
    calls: Number(r[6]),
    failures: Number(r[7]),
    retryInMs: Number(r[8]),
    transition: r[10] ? { from: r[9] as BreakerState, to: r[10] as BreakerState, reason: r[11] } : undefined,
  };
}
