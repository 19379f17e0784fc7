/**
 * Load and figures for the drills: clients loop on a request until told to stop, every answer is recorded with
 * its start time and duration, and the report splits them into before / during / after the fault.
 */
import sharp from "sharp";

export type Sample = { kind: string; startedAt: number; ms: number; status: number; code?: string };

export class Recorder {
  readonly samples: Sample[] = [];
  readonly t0 = performance.now();
  now() {
    return performance.now() - this.t0;
  }

  /** Sends one request with a client-side limit far above any server deadline: a hang shows up as status 0. */
  async time(
    kind: string,
    request: (signal: AbortSignal) => Promise<Response>,
  ): Promise<Response | undefined> {
    const startedAt = this.now();
    try {
      const res = await request(AbortSignal.timeout(30_000));
      const body = await res.text();
      let code: string | undefined;
      if (res.headers.get("content-type")?.includes("problem+json")) {
        code = (JSON.parse(body) as { code?: string }).code;
      }
      this.samples.push({ kind, startedAt, ms: this.now() - startedAt, status: res.status, code });
      return new Response(body, { status: res.status, headers: res.headers });
    } catch {
      this.samples.push({ kind, startedAt, ms: this.now() - startedAt, status: 0, code: "no_answer" });
      return undefined;
    }
  }
}

/** Runs `clients` loops of `step` until `stop()` is called; each loop pauses `pauseMs` between requests. */
export function loop(clients: number, pauseMs: number, step: (client: number) => Promise<unknown>) {
  let running = true;
  const loops = Array.from({ length: clients }, async (_, client) => {
    while (running) {
      await step(client);
      await Bun.sleep(pauseMs);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const ms = (n: number) => (Number.isFinite(n) ? `${Math.round(n)} ms` : "-");

export type Window = { name: string; from: number; to: number };

/** Per kind and window: answers by status (and problem code), p50, p99, max. */
export function report(rec: Recorder, windows: Window[]): void {
  const kinds = [...new Set(rec.samples.map((s) => s.kind))];
  for (const w of windows) {
    console.log(`\n${w.name} (${((w.to - w.from) / 1000).toFixed(1)} s)`);
    for (const kind of kinds) {
      const xs = rec.samples.filter((s) => s.kind === kind && s.startedAt >= w.from && s.startedAt < w.to);
      if (xs.length === 0) continue;
      const counts = new Map<string, number>();
      for (const s of xs) {
        const key = s.code ? `${s.status} ${s.code}` : String(s.status);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const statuses = [...counts].map(([k, n]) => `${k}: ${n}`).join(", ");
      const times = xs.map((s) => s.ms);
      console.log(
        `  ${kind.padEnd(22)} n=${String(xs.length).padEnd(5)} p50 ${ms(pct(times, 50)).padEnd(8)} p99 ${ms(pct(times, 99)).padEnd(8)} max ${ms(Math.max(...times)).padEnd(8)} ${statuses}`,
      );
    }
  }
}

/**
 * Recovery of one kind of request after the fault was removed at `restoredAt`: the start time of the first
 * successful answer after which every answer of that kind succeeded, relative to `restoredAt`.
 */
export function recoveryMs(rec: Recorder, kind: string, restoredAt: number, ok: (s: Sample) => boolean) {
  const xs = rec.samples.filter((s) => s.kind === kind).sort((a, b) => a.startedAt - b.startedAt);
  let firstOfRun: Sample | undefined;
  for (const s of xs) {
    if (!ok(s)) firstOfRun = undefined;
    else firstOfRun ??= s;
  }
  if (!firstOfRun) return Number.NaN;
  return Math.max(0, firstOfRun.startedAt - restoredAt);
}

/** The whole fault window's answers: every answer bounded? */
export function worst(rec: Recorder, from: number, to: number): { p99: number; max: number; n: number } {
  const times = rec.samples.filter((s) => s.startedAt >= from && s.startedAt < to).map((s) => s.ms);
  return { p99: pct(times, 99), max: times.length ? Math.max(...times) : Number.NaN, n: times.length };
}

let colour = 0;
/** A small distinct photo, so neither image work nor the provider answer cache shapes the figures. */
export async function photo(): Promise<Uint8Array> {
  colour += 1;
  const background = {
    r: 20 + (colour % 200),
    g: 100 + ((colour >> 3) % 120),
    b: 10 + ((colour >> 6) % 200),
  };
  return new Uint8Array(
    await sharp({ create: { width: 320, height: 240, channels: 3, background } })
      .jpeg()
      .toBuffer(),
  );
}

export function photoForm(bytes: Uint8Array): FormData {
  const form = new FormData();
  form.append("images", new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }), "leaf.jpg");
  return form;
}

export const fmtMs = ms;
