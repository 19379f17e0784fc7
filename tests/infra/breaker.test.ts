import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  BreakerOpenError,
  type BreakerOptions,
  type BreakerState,
  BreakerTimeoutError,
  type CallEvent,
  CircuitBreaker,
  type StateChangeEvent,
} from "../../src/infra/breaker.ts";
import { FakeClock } from "../../src/infra/clock.ts";

class SpeciesNotFound extends Error {}
const providerDown = () => new Error("503 from provider");
const isFailure = (error: unknown) => !(error instanceof SpeciesNotFound);
const TIMEOUT = { timeoutMs: 1_000 };

function setup(options: Partial<BreakerOptions> = {}) {
  const clock = new FakeClock();
  const transitions: (StateChangeEvent & { at: number })[] = [];
  const calls: CallEvent[] = [];
  const breaker = new CircuitBreaker({
    name: "plantnet",
    isFailure,
    clock,
    onStateChange: (event) => transitions.push({ ...event, at: clock.now() }),
    onCall: (event) => calls.push(event),
    ...options,
  });
  return { clock, breaker, transitions, calls };
}

const succeed = (breaker: CircuitBreaker) => breaker.call(async () => "ok", TIMEOUT);
const fail = (breaker: CircuitBreaker) =>
  breaker.call(async () => Promise.reject(providerDown()), TIMEOUT).catch((e) => e);
const notFound = (breaker: CircuitBreaker) =>
  breaker.call(async () => Promise.reject(new SpeciesNotFound("no match")), TIMEOUT).catch((e) => e);

async function openIt(breaker: CircuitBreaker) {
  while (breaker.state === "closed") await fail(breaker);
  // With a zero cool-down it is already half-open by the time anyone looks.
  expect(breaker.state).not.toBe("closed");
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("FakeClock", () => {
  test("it fires due timers in due-time order and leaves later ones pending", () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("b"), 20);
    clock.setTimeout(() => fired.push("a"), 10);
    const cancelled = clock.setTimeout(() => fired.push("never"), 15);
    clock.setTimeout(() => fired.push("later"), 100);
    clock.clearTimeout(cancelled);
    clock.advance(50);
    expect(fired).toEqual(["a", "b"]);
    expect(clock.now()).toBe(50);
    expect(clock.pendingTimers).toBe(1);
  });

  test("timers scheduled by a firing timer fire in the same advance when they fall due", () => {
    const clock = new FakeClock(0);
    const firedAt: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => firedAt.push(clock.now()), 5), 10);
    clock.advance(15);
    expect(firedAt).toEqual([15]);
  });
});

describe("CircuitBreaker transitions", () => {
  test("a closed breaker passes calls through and returns their results", async () => {
    const { breaker, calls } = setup();
    expect(await succeed(breaker)).toBe("ok");
    expect(breaker.state).toBe("closed");
    expect(calls).toEqual([{ breaker: "plantnet", result: "success", durationMs: 0 }]);
  });

  test("five consecutive failures open the breaker by default", async () => {
    const { breaker, transitions } = setup();
    for (let i = 0; i < 4; i++) await fail(breaker);
    expect(breaker.state).toBe("closed");
    await fail(breaker);
    expect(breaker.state).toBe("open");
    expect(transitions.map((t) => [t.from, t.to, t.reason])).toEqual([
      ["closed", "open", "5 consecutive failures"],
    ]);
  });

  test("a success in between resets the consecutive failure count", async () => {
    const { breaker } = setup();
    for (let i = 0; i < 4; i++) await fail(breaker);
    await succeed(breaker);
    for (let i = 0; i < 4; i++) await fail(breaker);
    expect(breaker.state).toBe("closed");
    expect(breaker.snapshot().consecutiveFailures).toBe(4);
  });

  test("half of at least ten calls failing within the window opens the breaker", async () => {
    const { breaker, transitions } = setup();
    for (let i = 0; i < 5; i++) {
      await succeed(breaker);
      await fail(breaker);
    }
    expect(breaker.state).toBe("open");
    expect(transitions[0]?.reason).toBe("5 of 10 calls failed");
  });

  test("a high failure ratio below the minimum number of calls does not open the breaker", async () => {
    const { breaker } = setup();
    for (let i = 0; i < 3; i++) {
      await fail(breaker);
      await fail(breaker);
      await succeed(breaker);
    }
    expect(breaker.snapshot()).toMatchObject({ state: "closed", windowCalls: 9, windowFailures: 6 });
    await succeed(breaker);
    expect(breaker.snapshot()).toMatchObject({ state: "open" });
  });

  test("failures older than the window no longer count towards the ratio", async () => {
    const { breaker, clock } = setup();
    for (let i = 0; i < 4; i++) await fail(breaker);
    await succeed(breaker);
    clock.advance(30_000);
    for (let i = 0; i < 5; i++) await succeed(breaker);
    for (let i = 0; i < 4; i++) await fail(breaker);
    expect(breaker.snapshot()).toMatchObject({ state: "closed", windowCalls: 9, windowFailures: 4 });
  });

  test("an open breaker rejects at once without calling, saying how long until it retries", async () => {
    const { breaker, clock, calls } = setup();
    await openIt(breaker);
    clock.advance(15_000);
    let called = false;
    const error = await breaker
      .call(async () => {
        called = true;
      }, TIMEOUT)
      .catch((e) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(BreakerOpenError);
    expect(error).toMatchObject({ breaker: "plantnet", retryInMs: 45_000, state: "open" });
    expect(calls.at(-1)).toEqual({ breaker: "plantnet", result: "rejected", durationMs: 0 });
  });

  test("an open breaker becomes half-open when the cool-down has passed", async () => {
    const { breaker, clock, transitions } = setup();
    await openIt(breaker);
    clock.advance(59_999);
    expect(breaker.state).toBe("open");
    clock.advance(1);
    expect(breaker.state).toBe("half_open");
    expect(transitions.at(-1)).toMatchObject({ from: "open", to: "half_open", reason: "cool-down elapsed" });
  });

  test("half-open admits only the configured number of concurrent probes and rejects the rest", async () => {
    const { breaker, clock } = setup({ halfOpenMaxProbes: 2 });
    await openIt(breaker);
    clock.advance(60_000);
    const first = deferred<string>();
    const second = deferred<string>();
    const p1 = breaker.call(() => first.promise, TIMEOUT);
    const p2 = breaker.call(() => second.promise, TIMEOUT);
    clock.advance(300);
    const rejected = await breaker.call(async () => "third", TIMEOUT).catch((e) => e);
    expect(rejected).toBeInstanceOf(BreakerOpenError);
    expect(rejected).toMatchObject({ state: "half_open", retryInMs: 700 });
    first.resolve("a");
    second.resolve("b");
    expect([await p1, await p2]).toEqual(["a", "b"]);
    expect(breaker.state).toBe("closed");
  });

  test("half-open closes after the configured number of successful probes", async () => {
    const { breaker, clock, transitions } = setup({ halfOpenSuccesses: 3 });
    await openIt(breaker);
    clock.advance(60_000);
    await succeed(breaker);
    await succeed(breaker);
    expect(breaker.state).toBe("half_open");
    await succeed(breaker);
    expect(breaker.snapshot()).toMatchObject({ state: "closed", consecutiveFailures: 0, windowCalls: 0 });
    expect(transitions.at(-1)).toMatchObject({
      from: "half_open",
      to: "closed",
      reason: "3 probes succeeded",
    });
  });

  test("a failed probe reopens the breaker with a fresh cool-down", async () => {
    const { breaker, clock, transitions } = setup();
    await openIt(breaker);
    clock.advance(60_000);
    await succeed(breaker);
    clock.advance(5_000);
    await fail(breaker);
    expect(breaker.snapshot()).toMatchObject({ state: "open", retryInMs: 60_000 });
    expect(transitions.at(-1)).toMatchObject({ from: "half_open", to: "open", reason: "probe failed" });
  });

  test("a call that outlives its deadline is rejected with BreakerTimeoutError, aborts its signal and counts as a failure", async () => {
    const { breaker, clock, calls } = setup();
    let seen: AbortSignal | undefined;
    const pending = breaker
      .call(
        (signal) => {
          seen = signal;
          return new Promise(() => {}); // ignores the signal entirely
        },
        { timeoutMs: 2_500 },
      )
      .catch((e) => e);
    clock.advance(2_499);
    expect(seen?.aborted).toBe(false);
    clock.advance(1);
    const error = await pending;
    expect(error).toBeInstanceOf(BreakerTimeoutError);
    expect(error).toMatchObject({ breaker: "plantnet", timeoutMs: 2_500 });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
    expect(breaker.snapshot()).toMatchObject({ consecutiveFailures: 1, windowFailures: 1 });
    expect(calls.at(-1)).toEqual({ breaker: "plantnet", result: "failure", durationMs: 2_500 });
  });

  test("errors the classifier does not count are rethrown but recorded as successes and never open the breaker", async () => {
    const { breaker, calls } = setup();
    for (let i = 0; i < 50; i++) expect(await notFound(breaker)).toBeInstanceOf(SpeciesNotFound);
    expect(breaker.snapshot()).toMatchObject({ state: "closed", windowCalls: 50, windowFailures: 0 });
    expect(calls.every((c) => c.result === "success")).toBe(true);
  });

  test("a classifier that throws is treated as reporting a failure", async () => {
    const { breaker } = setup({
      isFailure: () => {
        throw new Error("classifier bug");
      },
    });
    await fail(breaker);
    expect(breaker.snapshot().consecutiveFailures).toBe(1);
  });

  test("a slow call admitted before the breaker opened cannot change the state that followed", async () => {
    const { breaker, clock } = setup({ coolDownMs: 100 });
    const slow = deferred<string>();
    const pending = breaker.call(() => slow.promise, { timeoutMs: 10_000 }).catch((e) => e);
    await openIt(breaker);
    clock.advance(100);
    expect(breaker.state).toBe("half_open");
    slow.reject(providerDown());
    await pending;
    expect(breaker.state).toBe("half_open");
  });

  test("a slow call admitted in an earlier closed spell does not count in the next one", async () => {
    const { breaker, clock } = setup({ coolDownMs: 100, halfOpenSuccesses: 1 });
    const slow = deferred<string>();
    const pending = breaker.call(() => slow.promise, { timeoutMs: 10_000 }).catch((e) => e);
    await openIt(breaker);
    clock.advance(100);
    await succeed(breaker);
    expect(breaker.state).toBe("closed");
    slow.reject(providerDown());
    await pending;
    expect(breaker.snapshot()).toMatchObject({ consecutiveFailures: 0, windowCalls: 0 });
  });

  test("the snapshot reports state, counts, last change and time until retry", async () => {
    const { breaker, clock } = setup();
    await fail(breaker);
    await succeed(breaker);
    await fail(breaker);
    expect(breaker.snapshot()).toEqual({
      name: "plantnet",
      state: "closed",
      consecutiveFailures: 1,
      windowCalls: 3,
      windowFailures: 2,
      lastChangeAt: clock.now(),
      retryInMs: 0,
    });
    const openedAt = clock.now();
    await openIt(breaker);
    clock.advance(10_000);
    expect(breaker.snapshot()).toMatchObject({ state: "open", lastChangeAt: openedAt, retryInMs: 50_000 });
  });

  test("options that make no sense are refused", () => {
    expect(() => new CircuitBreaker({ name: "x", failureRatio: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ name: "x", halfOpenMaxProbes: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ name: "x", consecutiveFailures: 1.5 })).toThrow(RangeError);
  });
});

const configArb = fc.record({
  consecutiveFailures: fc.integer({ min: 1, max: 6 }),
  failureRatio: fc.constantFrom(0.2, 0.3, 0.5, 0.75, 1),
  minimumCalls: fc.integer({ min: 1, max: 12 }),
  windowMs: fc.integer({ min: 100, max: 5_000 }),
  windowBuckets: fc.integer({ min: 1, max: 10 }),
  coolDownMs: fc.integer({ min: 0, max: 5_000 }),
  halfOpenMaxProbes: fc.integer({ min: 1, max: 3 }),
  halfOpenSuccesses: fc.integer({ min: 1, max: 4 }),
});

type Op =
  | { kind: "call"; outcome: "success" | "failure" | "not-found"; durationMs: number }
  | { kind: "advance"; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("call" as const),
    outcome: fc.constantFrom("success" as const, "failure" as const, "not-found" as const),
    // Up to 1.5x the 1 s deadline: the slow ones ignore their signal and must be cut off by the breaker.
    durationMs: fc.integer({ min: 0, max: 1_500 }),
  }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 3_000 }) }),
);

const LEGAL = new Set(["closed>open", "open>half_open", "half_open>closed", "half_open>open"]);

describe("CircuitBreaker properties", () => {
  test("under any mix of outcomes, slow calls and time, probes stay bounded, OPEN never calls through and rejections say when to retry", async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(opArb, { maxLength: 60 }), async (config, ops) => {
        const { breaker, clock, transitions } = setup(config);
        let probesInFlight = 0;
        const settled: Promise<unknown>[] = [];
        const openedAt = () => transitions.findLast((t) => t.to === "open")?.at ?? Number.NaN;

        for (const op of ops) {
          if (op.kind === "advance") {
            await clock.advanceAsync(op.ms);
            continue;
          }
          const before: BreakerState = breaker.state;
          let invoked = false;
          const outcome = breaker.call(() => {
            invoked = true;
            return new Promise<string>((resolve, reject) => {
              clock.setTimeout(() => {
                if (op.outcome === "success") resolve("ok");
                else reject(op.outcome === "failure" ? providerDown() : new SpeciesNotFound());
              }, op.durationMs);
            });
          }, TIMEOUT);
          const isProbe = invoked && before === "half_open";
          if (isProbe) {
            probesInFlight++;
            expect(probesInFlight).toBeLessThanOrEqual(config.halfOpenMaxProbes);
          }
          if (before === "open") expect(invoked).toBe(false);
          if (before === "closed") expect(invoked).toBe(true);
          const fullBefore = probesInFlight;
          settled.push(
            outcome
              .then(
                () => {
                  expect(op.outcome).toBe("success");
                  expect(op.durationMs).toBeLessThan(1_000);
                },
                (error) => {
                  if (!invoked) {
                    expect(error).toBeInstanceOf(BreakerOpenError);
                    if (before === "open") {
                      expect(error.state).toBe("open");
                      expect(error.retryInMs).toBe(openedAt() + config.coolDownMs - clock.now());
                      expect(error.retryInMs).toBeGreaterThan(0);
                    } else {
                      expect(fullBefore).toBe(config.halfOpenMaxProbes);
                      expect(error.retryInMs).toBeGreaterThan(0);
                      expect(error.retryInMs).toBeLessThanOrEqual(TIMEOUT.timeoutMs);
                    }
                  } else if (op.durationMs >= TIMEOUT.timeoutMs) {
                    expect(error).toBeInstanceOf(BreakerTimeoutError);
                  } else {
                    expect(op.outcome).not.toBe("success");
                  }
                },
              )
              .finally(() => {
                if (isProbe) probesInFlight--;
              }),
          );
          await clock.advanceAsync(0);
        }
        await clock.advanceAsync(10_000);
        await Promise.all(settled);

        let previous: (typeof transitions)[number] | undefined;
        for (const t of transitions) {
          expect(LEGAL.has(`${t.from}>${t.to}`)).toBe(true);
          if (previous) expect(t.from).toBe(previous.to);
          if (t.to === "half_open")
            expect(t.at - (previous?.at ?? Number.NaN)).toBeGreaterThanOrEqual(config.coolDownMs);
          previous = t;
        }
      }),
      { numRuns: 300 },
    );
  });

  test("from half-open it always closes after the configured number of successful probes, whatever the configuration", async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        async (config, useNotFound) => {
          const { breaker, clock } = setup(config);
          await openIt(breaker);
          clock.advance(config.coolDownMs);
          expect(breaker.state).toBe("half_open");
          for (let i = 1; i <= config.halfOpenSuccesses; i++) {
            // A "species not found" answer proves the provider is up, so it counts as a successful probe.
            if (useNotFound[i - 1]) await notFound(breaker);
            else await succeed(breaker);
            expect(breaker.state).toBe(i < config.halfOpenSuccesses ? "half_open" : "closed");
          }
        },
      ),
    );
  });

  test("a probe failure reopens the breaker after any number of earlier probe successes", async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.nat(), fc.boolean(), async (config, seed, timeOut) => {
        const { breaker, clock } = setup(config);
        await openIt(breaker);
        clock.advance(config.coolDownMs);
        const successes = seed % config.halfOpenSuccesses;
        for (let i = 0; i < successes; i++) await succeed(breaker);
        if (timeOut) {
          const pending = breaker.call(() => new Promise(() => {}), TIMEOUT).catch((e) => e);
          clock.advance(TIMEOUT.timeoutMs);
          expect(await pending).toBeInstanceOf(BreakerTimeoutError);
        } else {
          await fail(breaker);
        }
        expect(breaker.snapshot()).toMatchObject({
          state: config.coolDownMs === 0 ? "half_open" : "open",
          retryInMs: config.coolDownMs === 0 ? 0 : config.coolDownMs,
        });
      }),
    );
  });

  test("it opens exactly when the consecutive count or the failure ratio over at least the minimum number of calls is reached", async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.boolean(),
        fc.array(fc.boolean(), { maxLength: 30 }),
        async (config, ratioOnly, outcomes) => {
          const consecutiveLimit = ratioOnly ? 1_000 : config.consecutiveFailures;
          const { breaker, transitions } = setup({ ...config, consecutiveFailures: consecutiveLimit });
          let calls = 0;
          let failures = 0;
          let consecutive = 0;
          let expectedOpenAt = -1;
          outcomes.forEach((failed, i) => {
            calls++;
            if (failed) failures++;
            consecutive = failed ? consecutive + 1 : 0;
            const ratioMet = calls >= config.minimumCalls && failures / calls >= config.failureRatio;
            if (expectedOpenAt < 0 && (ratioMet || consecutive >= consecutiveLimit)) expectedOpenAt = i;
          });
          let openedAt = -1;
          for (const [i, failed] of outcomes.entries()) {
            if (failed) await fail(breaker);
            else await succeed(breaker);
            if (transitions.length > 0) {
              openedAt = i;
              break;
            }
          }
          expect(openedAt).toBe(expectedOpenAt);
          if (openedAt >= 0 && ratioOnly) expect(openedAt + 1).toBeGreaterThanOrEqual(config.minimumCalls);
        },
      ),
    );
  });

  test("a call that ignores its signal is cut off exactly at its deadline and counted as a failure, whatever the classifier says", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60_000 }), async (timeoutMs) => {
        const { breaker, clock } = setup({ isFailure: () => false });
        const pending = breaker.call(() => new Promise(() => {}), { timeoutMs }).catch((e) => e);
        clock.advance(timeoutMs - 1);
        expect(breaker.snapshot().windowCalls).toBe(0);
        clock.advance(1);
        expect(await pending).toBeInstanceOf(BreakerTimeoutError);
        expect(breaker.snapshot()).toMatchObject({ windowCalls: 1, windowFailures: 1 });
      }),
    );
  });
});
