/**
 * Mixed client traffic for the fault drills, and the figures they print: what clients saw (status counts,
 * p50/p99 latency, requests with no answer within the client deadline), what was lost (accepted async
 * identifications that never completed, or completed twice) and how long recovery took.
 */
import { jpeg } from "../../tests/helpers/images.ts";
import type { FaultStack } from "./_fault-stack.ts";

export type Kind = "species" | "me" | "identify" | "login";
/** status 0: connection error; -1: no answer within the client deadline (a hang). */
export type Sample = {
  at: number;
  kind: Kind;
  status: number;
  ms: number;
  api: string;
  bare503?: boolean;
  /** The problem's `code` (and detail) for 4xx/5xx answers. */
  problem?: string;
};
type User = { email: string; password: string; token: string };

const HANG_MS = 10_000;
const MIX: Kind[] = ["species", "species", "species", "me", "me", "identify", "identify", "login"];

export type Load = {
  samples: Sample[];
  accepted: string[];
  stop(): Promise<void>;
};

/** Registration answers 202 whether or not the address is taken (issue #18); the session comes from signing in. */
export async function registerAndSignIn(
  apiUrl: string,
  account: { email: string; password: string },
): Promise<{ accessToken: string; user: { id: string } }> {
  const post = (path: string, body: object) =>
    fetch(`${apiUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const res = await post("/v1/auth/register", { ...account, displayName: "Drill" });
  if (res.status !== 202) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  const login = await post("/v1/auth/login", account);
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
  return (await login.json()) as { accessToken: string; user: { id: string } };
}

export async function prepareUsers(apiUrl: string, n: number): Promise<{ users: User[]; speciesId: string }> {
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const email = `drill-${crypto.randomUUID()}@example.test`;
    const password = `pw-${crypto.randomUUID()}`;
    const { accessToken } = await registerAndSignIn(apiUrl, { email, password });
    users.push({ email, password, token: accessToken });
  }
  const list = await fetch(`${apiUrl}/v1/species?limit=1`, {
    headers: { authorization: `Bearer ${users[0]!.token}` },
  });
  const speciesId = ((await list.json()) as { data: { id: string }[] }).data[0]!.id;
  return { users, speciesId };
}

/**
 * `concurrency` clients, each sending the mix one request after another to `target()` (a function, so a drill
 * can move clients to another API as a load balancer would).
 */
export async function startLoad(opts: {
  target: () => string;
  users: User[];
  speciesId: string;
  concurrency?: number;
  kinds?: Kind[];
}): Promise<Load> {
  const image = await jpeg();
  const samples: Sample[] = [];
  const accepted: string[] = [];
  const kinds = opts.kinds ?? MIX;
  let running = true;
  const one = async (client: number, i: number) => {
    const user = opts.users[(client + i) % opts.users.length]!;
    const kind = kinds[(client * 3 + i) % kinds.length]!;
    const auth = { authorization: `Bearer ${user.token}` };
    const api = opts.target();
    let init: RequestInit;
    let path: string;
    if (kind === "species") [path, init] = [`/v1/species/${opts.speciesId}`, { headers: auth }];
    else if (kind === "me") [path, init] = ["/v1/me", { headers: auth }];
    else if (kind === "login")
      [path, init] = [
        "/v1/auth/login",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: user.email, password: user.password }),
        },
      ];
    else {
      const form = new FormData();
      form.append("images", new Blob([image as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }), "leaf.jpg");
      [path, init] = [
        "/v1/identifications",
        { method: "POST", headers: { ...auth, prefer: "respond-async" }, body: form },
      ];
    }
    const started = performance.now();
    const at = Date.now();
    let status: number;
    let bare503 = false;
    let problem: string | undefined;
    try {
      const res = await fetch(`${api}${path}`, { ...init, signal: AbortSignal.timeout(HANG_MS) });
      status = res.status;
      bare503 =
        status === 503 &&
        (!res.headers.get("retry-after") || res.headers.get("content-type") !== "application/problem+json");
      const text = await res.text();
      if (kind === "identify" && status === 202) accepted.push((JSON.parse(text) as { id: string }).id);
      if (status >= 400) {
        try {
          const body = JSON.parse(text) as { code?: string; detail?: string };
          problem = `${body.code}: ${body.detail ?? ""}`.slice(0, 80);
        } catch {
          problem = text.slice(0, 80);
        }
      }
    } catch (err) {
      status = (err as Error).name === "TimeoutError" ? -1 : 0;
    }
    samples.push({ at, kind, status, ms: performance.now() - started, api, bare503, problem });
    // A refused connection answers in microseconds: do not spin on it.
    if (status === 0) await Bun.sleep(20);
  };
  const loops = Array.from({ length: opts.concurrency ?? 8 }, async (_, client) => {
    for (let i = 0; running; i++) await one(client, i);
  });
  return {
    samples,
    accepted,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const f = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 1 : 0) : "-");

function ok(kind: Kind, status: number) {
  return kind === "identify" ? status === 202 : status === 200;
}

/** One line per phase: requests, status counts, p50/p99 (ms), hangs. */
export function printPhase(name: string, samples: Sample[], from: number, to: number) {
  const inPhase = samples.filter((s) => s.at >= from && s.at < to);
  const statuses: Record<string, number> = {};
  for (const s of inPhase) {
    const key = s.status === 0 ? "conn-error" : s.status === -1 ? "no-answer" : String(s.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const ms = inPhase.map((s) => s.ms);
  const counts = Object.entries(statuses)
    .sort()
    .map(([k, v]) => `${k}:${v}`)
    .join(" ");
  console.log(
    `${name.padEnd(22)} ${String(inPhase.length).padStart(5)} requests  p50 ${f(pct(ms, 50)).padStart(6)} ms  p99 ${f(pct(ms, 99)).padStart(6)} ms  max ${f(Math.max(0, ...ms)).padStart(6)} ms  ${counts}`,
  );
  for (const kind of ["species", "me", "login", "identify"] as Kind[]) {
    const k = inPhase.filter((s) => s.kind === kind);
    if (k.length === 0) continue;
    const byStatus: Record<string, number> = {};
    for (const s of k) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
    console.log(
      `  ${kind.padEnd(9)} ${String(k.length).padStart(5)}  p50 ${f(
        pct(
          k.map((s) => s.ms),
          50,
        ),
      ).padStart(6)} ms  p99 ${f(
        pct(
          k.map((s) => s.ms),
          99,
        ),
      ).padStart(6)} ms  ${Object.entries(byStatus)
        .map(([s, n]) => `${s}:${n}`)
        .join(" ")}`,
    );
  }
  const problems = new Map<string, number>();
  for (const s of inPhase) if (s.problem) problems.set(s.problem, (problems.get(s.problem) ?? 0) + 1);
  if (problems.size)
    console.log(
      `  errors: ${[...problems]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([p, n]) => `${n}x ${p}`)
        .join(" | ")}`,
    );
  const bare503 = inPhase.filter((s) => s.bare503).length;
  if (bare503) console.log(`  503 without Retry-After or problem+json: ${bare503}`);
  return { p99: pct(ms, 99), hung: statuses["no-answer"] ?? 0, count: inPhase.length };
}

/** Seconds from `since` until every kind of request succeeds again and keeps succeeding (NaN if never). */
export function recoverySeconds(samples: Sample[], since: number): number {
  const after = samples.filter((s) => s.at >= since);
  const lastFailure = after
    .filter((s) => !ok(s.kind, s.status))
    .reduce((m, s) => Math.max(m, s.at + s.ms), since);
  const succeededAfter = after.some((s) => s.at >= lastFailure && ok(s.kind, s.status));
  return succeededAfter ? (lastFailure - since) / 1000 : Number.NaN;
}

/** Seconds from `since` to the first success of `kind`. */
export function firstSuccessSeconds(samples: Sample[], kind: Kind, since: number): number {
  const first = samples.find((s) => s.kind === kind && s.at >= since && ok(kind, s.status));
  return first ? (first.at + first.ms - since) / 1000 : Number.NaN;
}

const clock = (time: unknown) => {
  const d = new Date(typeof time === "number" ? time : String(time));
  return Number.isNaN(d.getTime()) ? String(time) : d.toISOString().slice(11, 23);
};

/** The warn/error lines of the API and workers, counted by message: what an operator would have seen. */
export function printLogSummary(stack: FaultStack) {
  for (const [name, procs] of [
    ["api", stack.apis],
    ["workers", stack.workers],
  ] as const) {
    const counts = new Map<string, number>();
    for (const p of procs)
      for (const l of p.lines)
        if (l.level === "warn" || l.level === "error" || l.level === "fatal") {
          const err = l.err ? ` (${String(l.err).slice(0, 70)})` : "";
          const key = `${l.level} ${String(l.message ?? "").slice(0, 70)}${err}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8);
    const transitions = procs
      .flatMap((p) => p.lines)
      .filter((l) => l.message === "circuit breaker state changed")
      .map((l) => `${l.breaker} ${l.from}->${l.to} at ${clock(l.time)} (${l.reason})`);
    if (transitions.length) console.log(`${name} breakers: ${transitions.slice(0, 12).join("; ")}`);
    console.log(`${name} log: ${top.length ? top.map(([k, n]) => `${n}x ${k}`).join(" | ") : "no warnings"}`);
  }
}

/** Waits (bounded) for every accepted identification to complete; prints and returns what was lost or doubled. */
export async function printLosses(stack: FaultStack, accepted: string[], timeoutMs = 60_000) {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let statuses: Record<string, number> = {};
  for (;;) {
    statuses = await stack.statusOf(accepted);
    if ((statuses.completed ?? 0) === accepted.length || Date.now() > deadline) break;
    await Bun.sleep(250);
  }
  // Notifications follow completion on the fast lane.
  let notes = await stack.notificationsPer(accepted);
  while (notes.size < (statuses.completed ?? 0) && Date.now() < deadline) {
    await Bun.sleep(250);
    notes = await stack.notificationsPer(accepted);
  }
  const lost = accepted.length - (statuses.completed ?? 0);
  const waitedS = ((Date.now() - started) / 1000).toFixed(1);
  const doubled = [...notes.values()].filter((n) => n > 1).length;
  console.log(
    `accepted (202) ${accepted.length}: ${Object.entries(statuses)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ", ",
      )}; lost ${lost}; notified ${notes.size}, twice ${doubled} (checked ${waitedS} s after the load)`,
  );
  return { lost, doubled };
}

/**
 * The common opening of a single-API drill: the API, one worker for the default, fast and slow lanes, 8 signed-in
 * users sending mixed load, and 3 s of that load before the fault (the "before" phase). `t0` starts the report.
 */
export async function startSteadyLoad(stack: FaultStack) {
  const api = await stack.startApi();
  const worker = await stack.startWorker("default,fast,slow");
  const { users, speciesId } = await prepareUsers(api.url, 8);
  const load = await startLoad({ target: () => api.url, users, speciesId });
  const t0 = Date.now();
  await Bun.sleep(3_000);
  return { api, worker, load, t0 };
}
