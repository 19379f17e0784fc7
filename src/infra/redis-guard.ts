/**
 * Our circuit breaker in front of the request path's Redis client. Every caller (rate limiter, species cache,
 * read-after-write marker, session checks, lockout, provider quotas and cache, idempotency lock) already
 * degrades on a Redis error by its own documented rule; what hurt was each of them waiting its own command
 * timeout, one after another. Guarding the client itself makes that rule cheap everywhere at once:
 *
 * - socket known down (after it had been up): the command fails at once and counts as a failure;
 * - breaker open: the command fails at once with RedisUnavailableError (nothing sent);
 * - half-open: one command probes, the others fail at once; so an outage costs at most one command timeout
 *   per cool-down (the probe interval), not one per command;
 * - Redis answered with an error (WRONGTYPE, NOSCRIPT...): Redis is up, counted as a success.
 *
 * The guard works at ioredis's `sendCommand`, which every command goes through; a pipeline or MULTI (and
 * ioredis's auto-pipelining) is admitted or refused as a whole, on its first command.
 */
import type { Redis } from "ioredis";
import { CircuitBreaker, type LocalPermit } from "./breaker.ts";
import type { BreakerHooks } from "./breaker-metrics.ts";
import type { Clock } from "./clock.ts";

export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
  constructor(
    message: string,
    /** When the next probe may go out (0 when the socket is simply down). */
    readonly retryInMs: number,
  ) {
    super(message);
  }
}

/** Redis answered: the server is up even if the command was wrong. These replies mean it cannot serve. */
const UNHEALTHY_REPLIES = /^(READONLY|LOADING|MASTERDOWN|BUSY|CLUSTERDOWN|TRYAGAIN)\b/;

export function isRedisFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error.name === "ReplyError") return UNHEALTHY_REPLIES.test(error.message);
  return true; // timeouts, closed or refused connections, "max retries per request"
}

export type RedisBreakerSettings = Readonly<{
  consecutiveFailures: number;
  coolDownMs: number;
}>;

type Command = { name: string; promise: Promise<unknown>; reject(error: Error): void };
type Send = (command: Command, stream?: object, node?: unknown) => unknown;

export type RedisGuard = { readonly breaker: CircuitBreaker };

/** Puts a breaker named `name` in front of `client` (idempotent per client). */
export function guardRedis(
  client: Redis,
  opts: {
    name?: string;
    settings: RedisBreakerSettings;
    /** The client's own command timeout: how long a half-open probe may hold its slot. */
    commandTimeoutMs: number;
    clock?: Clock;
    hooks?: BreakerHooks;
  },
): RedisGuard {
  const breaker = new CircuitBreaker({
    name: opts.name ?? "redis",
    isFailure: isRedisFailure,
    consecutiveFailures: opts.settings.consecutiveFailures,
    // A ratio over a short window as well: under load, failures interleave with the odd success.
    failureRatio: 0.5,
    minimumCalls: 10,
    windowMs: 10_000,
    coolDownMs: opts.settings.coolDownMs,
    halfOpenMaxProbes: 1,
    halfOpenSuccesses: 1,
    clock: opts.clock,
    onStateChange: opts.hooks?.onStateChange,
    onCall: opts.hooks?.onCall,
  });
  const admitted = new WeakSet<Command>();
  const pipelines = new WeakMap<object, Error | null>();
  let wasReady = client.status === "ready";
  client.on("ready", () => {
    wasReady = true;
  });
  const send = client.sendCommand.bind(client) as unknown as Send;

  const refuse = (command: Command, error: Error) => {
    command.reject(error);
    return command.promise;
  };

  /** null when admitted (and sent), else the error the command was refused with. */
  const admit = (command: Command, stream?: object, node?: unknown): Error | null => {
    let permit: LocalPermit;
    try {
      permit = breaker.acquire(opts.commandTimeoutMs);
    } catch {
      const retryInMs = breaker.snapshot().retryInMs;
      opts.hooks?.onCall({ breaker: breaker.name, result: "rejected", durationMs: 0 });
      return new RedisUnavailableError(`redis unavailable (circuit ${breaker.state})`, retryInMs);
    }
    if (wasReady && client.status !== "ready") {
      // The connection is known to be down: fail now instead of waiting in the offline queue.
      breaker.release(permit, true);
      opts.hooks?.onCall({ breaker: breaker.name, result: "failure", durationMs: 0 });
      return new RedisUnavailableError(`redis connection ${client.status}`, 0);
    }
    const started = Date.now();
    admitted.add(command);
    send(command, stream, node);
    command.promise.then(
      () => {
        breaker.release(permit, false);
        opts.hooks?.onCall({ breaker: breaker.name, result: "success", durationMs: Date.now() - started });
      },
      (error: unknown) => {
        const failed = isRedisFailure(error);
        breaker.release(permit, failed);
        const result = failed ? "failure" : "success";
        opts.hooks?.onCall({ breaker: breaker.name, result, durationMs: Date.now() - started });
      },
    );
    return null;
  };

  Object.assign(client, {
    sendCommand(command: Command, stream?: object, node?: unknown) {
      // Replays from the offline queue, and the handshake ioredis runs while connecting, pass untouched.
      if (admitted.has(command) || client.status === "connect") return send(command, stream, node);
      if (stream) {
        // A pipeline (or MULTI, or an auto-pipelined batch): decided once, on its first command.
        const decided = pipelines.get(stream);
        if (decided === undefined) {
          const refused = admit(command, stream, node);
          pipelines.set(stream, refused);
          return refused ? refuse(command, refused) : command.promise;
        }
        if (decided) return refuse(command, decided);
        admitted.add(command);
        return send(command, stream, node);
      }
      const refused = admit(command);
      return refused ? refuse(command, refused) : command.promise;
    },
  });
  return { breaker };
}
