/**
 * Cache tags (issue #19): an entry filled with tags is listed in one Redis set per tag, and each tag has a
 * generation counter. Invalidating a tag bumps its generation and deletes every entry listed under it, in one
 * atomic script, so every instance sharing the Redis prefix sees the drop at once (the cache lives in Redis;
 * no instance keeps its own copy).
 *
 * The generation closes the race a plain "delete on write" leaves open: a fill that read the database before
 * the write committed and stores after the invalidation would bring the old value back for a whole TTL. A fill
 * reads its tags' generations before loading and stores only if they are unchanged (checked inside the store
 * script); otherwise it answers its caller with what it loaded and leaves the cache empty.
 */

/** KEYS[1] value; KEYS[2..n+1] tag generations; KEYS[n+2..2n+1] tag member sets. ARGV: value, ttl, gens... */
export const STORE_IF_CURRENT = `
local n = (#KEYS - 1) / 2
for i = 1, n do
  local gen = redis.call('GET', KEYS[1 + i]) or '0'
  if gen ~= ARGV[2 + i] then return 0 end
end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
for i = 1, n do
  local members = KEYS[1 + n + i]
  redis.call('SADD', members, KEYS[1])
  if redis.call('TTL', members) < ttl then redis.call('EXPIRE', members, ttl) end
end
return 1
`;

/** KEYS: (generation, member set) per tag. Bumps each generation and deletes every entry listed. */
export const INVALIDATE_TAGS = `
local dropped = 0
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[1])
  local members = redis.call('SMEMBERS', KEYS[i + 1])
  for j = 1, #members, 500 do
    dropped = dropped + redis.call('DEL', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('DEL', KEYS[i + 1])
end
return dropped
`;

/**
 * How long a generation counter outlives its last bump. It must exceed the longest fill (a lock lease, 10 s by
 * default): a counter that expired back to "0" while a fill ran would only make that fill skip its store.
 */
export const GENERATION_TTL_SECONDS = 86_400;

export function tagKeys(prefix: string, tag: string) {
  return { generation: `${prefix}cachetag:${tag}:gen`, members: `${prefix}cachetag:${tag}:keys` };
}
