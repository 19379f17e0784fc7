import { afterEach, describe, expect, test } from "bun:test";
import { Redis, type RedisOptions } from "ioredis";
import { BreakerOpenError, BreakerTimeoutError, type StateChangeEvent } from "../../src/infra/breaker.ts";
import {
  type CoordinationEvent,
  FleetBreaker,
  type FleetBreakerOptions,
} from "../../src/infra/breaker-fleet.ts";
import { FakeClock } from "../../src/infra/clock.ts";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const TIMEOUT = { timeoutMs: 1_000 };
const START = 1_700_000_000_000;

const clients: Redis[] = [];
const breakers: FleetBreaker[] = [];
const prefixes: string[] = [];

function connect(options: RedisOptions = {}): Redis {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, commandTimeout: 2_000, ...options });
  client.on("error", () => {}); // failures surface through commands; the default handler only prints
  clients.push(client);
  return client;
}

function freshPrefix(): string {
  const prefix = `test:breaker-fleet:${crypto.randomUUID()}:`;
  prefixes.push(prefix);
  return prefix;
}

afterEach(async () => {
  await Promise.all(breakers.splice(0).map((b) => b.close()));
  const cleaner = new Redis(REDIS_URL);
  for (const prefix of prefixes.splice(0)) {
    const keys: string[] = [];
    for await (const batch of cleaner.scanStream({ match: `${prefix}*`, count: 100 }))
      keys.push(...(batch as string[]));
    if (keys.length) await cleaner.del(...keys);
  }
  cleaner.disconnect();
  for (const client of clients.splice(0)) client.disconnect();
});

/** One app instance: its own command and subscriber connections, as in production. */
async function instance(prefix: string, clock: FakeClock, options: Partial<FleetBreakerOptions> = {}) {
  const transitions: StateChangeEvent[] = [];
  const coordination: CoordinationEvent[] = [];
  const breaker = new FleetBreaker({
    name: "plantnet",
    keyPrefix: prefix,
    redis: connect(),
    subscriber: connect(),
    clock,
    onStateChange: (event) => transitions.push(event),
    onCoordinationChange: (event) => coordination.push(event),
    ...options,
  });
  breakers.push(breaker);
  await breaker.ready;
  return { breaker, transitions, coordination };
}

/** Polls a condition in real time until it holds or the deadline passes: waiting on an outcome, not a sleep. */
async function waitFor(condition: () => boolean, deadlineMs = 1_000): Promise<void> {
  const giveUpAt = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > giveUpAt) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const succeed = (breaker: FleetBreaker) => breaker.call(async () => "ok", TIMEOUT);
const fail = (breaker: FleetBreaker) =>
  breaker.call(async () => Promise.reject(new Error("503 from provider")), TIMEOUT).catch((e) => e);

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe("FleetBreaker with a shared Redis", () => {
  test("failures on one instance open the breaker on every instance within a second", async () => {
    const prefix = freshPrefix();
    const clock = new FakeClock(START);
    const a = await instance(prefix, clock);
    const b = await instance(prefix, clock);
    expect(await succeed(b.breaker)).toBe("ok");

    for (let i = 0; i < 5; i++) await fail(a.breaker);
    expect(a.breaker.state).toBe("open");
    const openedAt = performance.now();
    await waitFor(() => b.breaker.state === "open", 1_000);
    expect(performance.now() - openedAt).toBeLessThan(1_000);

    let called = false;
    const error = await b.breaker
      .call(async () => {
        called = true;
      }, TIMEOUT)
      .catch((e) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(error).toMatchObject({ breaker: "plantnet", state: "open", retryInMs: 60_000 });
    expect(a.transitions).toEqual([
      { breaker: "plantnet", from: "closed", to: "open", reason: "5 consecutive failures", origin: "self" },
    ]);
    expect(b.transitions).toEqual([
      { breaker: "plantnet", from: "closed", to: "open", reason: "5 consecutive failures", origin: "peer" },
    ]);
    expect(b.breaker.snapshot()).toMatchObject({ state: "open", retryInMs: 60_000, coordination: "fleet" });
  });

  test("an instance that was not calling still rejects at once because the decision is made in Redis", async () => {
    const prefix = freshPrefix();
    const clock = new FakeClock(START);
    const a = await instance(prefix, clock);
    const b = await instance(prefix, clock, { subscriber: undefined });
    for (let i = 0; i < 5; i++) await fail(a.breaker);
    clock.advance(10_000);
    const error = await succeed(b.breaker).catch((e) => e);
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(error.retryInMs).toBe(50_000);
    expect(b.transitions.map((t) => [t.to, t.origin])).toEqual([["open", "peer"]]);
  });

  test("in half-open only the configured number of probes run across all instances, and their successes close it everywhere", async () => {
    const prefix = freshPrefix();
    const clock = new FakeClock(START);
    const options = { halfOpenMaxProbes: 2, halfOpenSuccesses: 2 };
    const a = await instance(prefix, clock, options);
    const b = await instance(prefix, clock, options);
    for (let i = 0; i < 5; i++) await fail(a.breaker);
    clock.advance(60_000);

    const release = gate();
    let invoked = 0;
    let rejected = 0;
    const probe = async () => {
      invoked++;
      await release.opened;
      return "ok";
    };
    const attempts = [a, b, a, b, a, b].map(({ breaker }) =>
      breaker.call(probe, { timeoutMs: 5_000 }).catch((error) => {
        expect(error).toBeInstanceOf(BreakerOpenError);
        expect(error.state).toBe("half_open");
        rejected++;
      }),
    );
    await waitFor(() => invoked + rejected === 6);
    expect(invoked).toBe(2);
    release.open();
    await Promise.all(attempts);
    await waitFor(() => a.breaker.state === "closed" && b.breaker.state === "closed");
    expect(await succeed(b.breaker)).toBe("ok");
  });

  test("a probe whose instance never reports back frees its slot when its lease runs out, and its late report is ignored", async () => {
    const prefix = freshPrefix();
    // Separate clocks: instance A is frozen mid-probe while B's time moves on.
    const clockA = new FakeClock(START);
    const clockB = new FakeClock(START);
    const options = { probeLeaseMarginMs: 1_000 };
    const a = await instance(prefix, clockA, options);
    const b = await instance(prefix, clockB, options);
    for (let i = 0; i < 5; i++) await fail(a.breaker);
    clockA.advance(60_000);
    clockB.advance(60_000);

    let probing = false;
    const stuck = a.breaker
      .call(() => {
        probing = true;
        return new Promise<never>(() => {});
      }, TIMEOUT)
      .catch((e) => e);
    await waitFor(() => probing);

    const blocked = await succeed(b.breaker).catch((e) => e);
    expect(blocked).toBeInstanceOf(BreakerOpenError);
    expect(blocked).toMatchObject({ state: "half_open", retryInMs: 2_000 });
    clockB.advance(1_999);
    expect(await succeed(b.breaker).catch((e) => e)).toMatchObject({ retryInMs: 1 });
    clockB.advance(1);
    expect(await succeed(b.breaker)).toBe("ok");
    expect(b.breaker.snapshot().state).toBe("half_open");

    // A wakes up and reports a failure for a slot the fleet already reclaimed: it must not reopen the breaker.
    clockA.advance(TIMEOUT.timeoutMs);
    expect(await stuck).toBeInstanceOf(BreakerTimeoutError);
    expect(await succeed(b.breaker)).toBe("ok");
    expect(b.breaker.state).toBe("closed");
  });

  test("a slow call admitted before the breaker reopened and closed again does not count in the new closed spell", async () => {
    const prefix = freshPrefix();
    const clock = new FakeClock(START);
    const a = await instance(prefix, clock);
    const b = await instance(prefix, clock);
    let reject!: (error: Error) => void;
    const slow = a.breaker
      .call(() => new Promise((_, rej) => (reject = rej)), { timeoutMs: 120_000 })
      .catch((e) => e);
    for (let i = 0; i < 5; i++) await fail(b.breaker);
    clock.advance(60_000);
    await succeed(b.breaker);
    await succeed(b.breaker);
    expect(b.breaker.state).toBe("closed");
    reject(new Error("503 from provider"));
    await slow;
    await succeed(a.breaker);
    expect(a.breaker.snapshot()).toMatchObject({ state: "closed", windowCalls: 1, windowFailures: 0 });
  });

  test("the shared state is stored as plain numbers under the configured prefix", async () => {
    const prefix = freshPrefix();
    const clock = new FakeClock(START);
    const a = await instance(prefix, clock);
    for (let i = 0; i < 5; i++) await fail(a.breaker);
    const stored = await connect().hgetall(`${prefix}{plantnet}:state`);
    expect(stored).toEqual({
      state: "open",
      gen: "1",
      openUntil: String(START + 60_000),
      changedAt: String(START),
      consecutive: "0",
      successes: "0",
    });
  });

  test("the snapshot reports the fleet-wide window counts", async () => {
    const prefix = freshPrefix();
    const clock = new FakeClock(START);
    const a = await instance(prefix, clock);
    const b = await instance(prefix, clock);
    await fail(a.breaker);
    await succeed(b.breaker);
    await fail(b.breaker);
    expect(b.breaker.snapshot()).toEqual({
      name: "plantnet",
      state: "closed",
      consecutiveFailures: 1,
      windowCalls: 3,
      windowFailures: 2,
      lastChangeAt: START,
      retryInMs: 0,
      coordination: "fleet",
    });
  });
});

describe("FleetBreaker without Redis", () => {
  test("with Redis unreachable the breaker still opens and closes by its local state machine, reporting the outage once", async () => {
    const clock = new FakeClock(START);
    const unreachable = new Redis({
      host: "127.0.0.1",
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    unreachable.on("error", () => {});
    clients.push(unreachable);
    const transitions: StateChangeEvent[] = [];
    const coordination: CoordinationEvent[] = [];
    const breaker = new FleetBreaker({
      name: "plantnet",
      keyPrefix: freshPrefix(),
      redis: unreachable,
      clock,
      onStateChange: (event) => transitions.push(event),
      onCoordinationChange: (event) => coordination.push(event),
    });

    expect(await succeed(breaker)).toBe("ok");
    for (let i = 0; i < 5; i++) await fail(breaker);
    expect(breaker.state).toBe("open");
    let called = false;
    const error = await breaker
      .call(async () => {
        called = true;
      }, TIMEOUT)
      .catch((e) => e);
    expect(called).toBe(false);
    expect(error).toMatchObject({ state: "open", retryInMs: 60_000 });
    expect(breaker.snapshot()).toMatchObject({ state: "open", coordination: "local" });

    clock.advance(60_000);
    await succeed(breaker);
    await succeed(breaker);
    expect(breaker.state).toBe("closed");
    expect(transitions.map((t) => `${t.from}>${t.to}`)).toEqual([
      "closed>open",
      "open>half_open",
      "half_open>closed",
    ]);
    expect(transitions.every((t) => t.reason.startsWith("local fallback: "))).toBe(true);
    expect(coordination.map((c) => c.mode)).toEqual(["local"]);
  });

  test("a Redis that accepts connections but never answers costs one bounded wait per retry interval", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const clock = new FakeClock(START);
      const mute = new Redis({
        host: "127.0.0.1",
        port: silent.port,
        enableReadyCheck: false,
        maxRetriesPerRequest: 0,
      });
      mute.on("error", () => {});
      clients.push(mute);
      const breaker = new FleetBreaker({
        name: "plantnet",
        keyPrefix: freshPrefix(),
        redis: mute,
        clock,
        redisTimeoutMs: 100,
        redisRetryMs: 1_000,
      });
      let started = performance.now();
      expect(await succeed(breaker)).toBe("ok");
      const firstCallMs = performance.now() - started;
      expect(firstCallMs).toBeGreaterThanOrEqual(90);
      expect(firstCallMs).toBeLessThan(1_000);

      started = performance.now();
      for (let i = 0; i < 5; i++) await succeed(breaker);
      expect(performance.now() - started).toBeLessThan(90);
      expect(breaker.snapshot().coordination).toBe("local");
    } finally {
      silent.stop(true);
    }
  });

  test("when Redis comes back the shared state takes over again", async () => {
    const prefix = freshPrefix();
    const clock = new FakeClock(START);
    const flaky = connect({ enableOfflineQueue: false });
    const a = await instance(prefix, clock, { redis: flaky, subscriber: undefined });
    const b = await instance(prefix, clock);
    await waitFor(() => flaky.status === "ready");

    flaky.disconnect();
    expect(await succeed(a.breaker)).toBe("ok");
    expect(a.breaker.snapshot().coordination).toBe("local");

    for (let i = 0; i < 5; i++) await fail(b.breaker);
    expect(b.breaker.state).toBe("open");
    expect(await succeed(a.breaker)).toBe("ok"); // A cannot know yet: it decides locally until Redis is back

    await flaky.connect();
    clock.advance(1_000);
    expect(await succeed(a.breaker).catch((e) => e)).toBeInstanceOf(BreakerOpenError);
    expect(a.coordination.map((c) => c.mode)).toEqual(["local", "fleet"]);
    expect(a.breaker.snapshot()).toMatchObject({ state: "open", coordination: "fleet" });
    expect(a.transitions.at(-1)).toMatchObject({ from: "closed", to: "open" });
  });
});
