import { DbTimeoutError, DbUnavailableError } from "./deadline.ts";

/** Errors that say "the server is not there" (not "your query was wrong" or "it was slow"). */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down)
]);

export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNREACHABLE.has(code);
}

/**
 * Fail-fast gate in front of one database. After the server proved unreachable, calls are refused at once
 * (DbUnavailableError, a 503) except one probe per `probeIntervalMs`, which goes through and closes the gate
 * when it succeeds. Without it every request of an outage queues behind postgres.js's reconnect attempts and
 * waits its full deadline; with it an outage costs the probes' time only, and recovery is one probe away.
 */
export class DbGate {
  private downSince: number | undefined;
  private lastProbeAt = 0;

  constructor(
    readonly name: string,
    private readonly probeIntervalMs: number,
    private readonly now: () => number = Date.now,
    private readonly onChange?: (down: boolean, err?: unknown) => void,
  ) {}

  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** Throws while the server is known to be down, unless this call is the next probe. */
  admit(): void {
    if (this.downSince === undefined) return;
    const now = this.now();
    if (now - this.lastProbeAt >= this.probeIntervalMs) {
      this.lastProbeAt = now;
      return;
    }
    throw new DbUnavailableError(`the ${this.name} database is unreachable`);
  }

  succeeded(): void {
    if (this.downSince === undefined) return;
    this.downSince = undefined;
    this.onChange?.(false);
  }

  failed(err: unknown): void {
    if (!isUnreachable(err) || this.downSince !== undefined) return;
    this.downSince = this.now();
    this.lastProbeAt = this.downSince;
    this.onChange?.(true, err);
  }

  /**
   * Runs `fn` through the gate: refused while down (unless `admitted`: a transaction's later statements, whose
   * connection is already held), and its outcome feeds the gate.
   */
  async run<T>(fn: () => Promise<T>, admitted = false): Promise<T> {
    if (!admitted) this.admit();
    try {
      const value = await fn();
      this.succeeded();
      return value;
    } catch (err) {
      // An answer of any kind (a constraint violation, a syntax error) proves the server is there; a
      // deadline that passed proves nothing either way.
      if (isUnreachable(err)) this.failed(err);
      else if (!(err instanceof DbTimeoutError || err instanceof DbUnavailableError)) this.succeeded();
      throw err;
    }
  }
}
