/**
 * Primary down: the PostgreSQL primary is stopped (immediate shutdown: connections cut, new ones refused) for
 * a while under mixed load, then started again. Clients should see reads answered by the replica, writes and
 * accepted work refused at once with 503 + Retry-After (never a hang, never a 500), and the API recover by
 * itself once the primary is back; every identification accepted (202) must complete.
 *
 *   bun run drill primary-down [outage seconds, default 8]
 */
import { fmtMs, loop, photo, photoForm, Recorder, recoveryMs, report, worst } from "./_pg-load.ts";
import { startDrillStack } from "./_pg-stack.ts";

export default async function drill(args: string[]) {
  const outageMs = Number(args[0] ?? 8) * 1000;
  const stack = await startDrillStack({ workers: ["default", "fast"] });
  try {
    const api = stack.apiUrl;
    const users = await Promise.all(Array.from({ length: 10 }, () => stack.register()));
    const auth = (i: number) => ({ authorization: `Bearer ${users[i]!.token}` });
    const rec = new Recorder();
    const accepted: { id: string; user: number }[] = [];
    let seq = 0;

    const readers = loop(6, 20, (c) =>
      rec.time("GET /v1/me", (signal) => fetch(`${api}/v1/me`, { headers: auth(c), signal })),
    );
    const writers = loop(3, 50, (c) =>
      rec.time("PATCH /v1/me", (signal) =>
        fetch(`${api}/v1/me`, {
          method: "PATCH",
          headers: { ...auth(6 + c), "content-type": "application/json" },
          body: JSON.stringify({ displayName: `drill ${++seq}` }),
          signal,
        }),
      ),
    );
    const submitters = loop(1, 150, async () => {
      const form = photoForm(await photo());
      const res = await rec.time("POST async identify", (signal) =>
        fetch(`${api}/v1/identifications`, {
          method: "POST",
          headers: { ...auth(9), prefer: "respond-async" },
          body: form,
          signal,
        }),
      );
      if (res?.status === 202) accepted.push({ id: ((await res.json()) as { id: string }).id, user: 9 });
    });

    await Bun.sleep(4_000);
    const stopAt = rec.now();
    await stack.pair.stopPrimary();
    const stoppedIn = rec.now() - stopAt;
    await Bun.sleep(outageMs);
    const startAt = rec.now();
    await stack.pair.startPrimary();
    const restoredAt = rec.now();
    await Bun.sleep(6_000);
    await Promise.all([readers.stop(), writers.stop(), submitters.stop()]);
    const endAt = rec.now();

    // Nothing accepted may be lost: every 202 must reach `completed`.
    const deadline = Date.now() + 90_000;
    const pending = new Set(accepted.map((a) => a.id));
    while (pending.size > 0 && Date.now() < deadline) {
      for (const id of [...pending]) {
        const res = await fetch(`${api}/v1/identifications/${id}`, { headers: auth(9) });
        if (res.ok && ((await res.json()) as { status: string }).status === "completed") pending.delete(id);
      }
      if (pending.size > 0) await Bun.sleep(500);
    }

    report(rec, [
      { name: "before", from: 0, to: stopAt },
      { name: "primary down", from: stopAt, to: restoredAt },
      { name: "after the primary is back", from: restoredAt, to: endAt },
    ]);
    const during = worst(rec, stopAt, restoredAt);
    const unanswered = rec.samples.filter((s) => s.status === 0).length;
    const fiveHundreds = rec.samples.filter((s) => s.status >= 500 && s.status !== 503).length;
    const readsOk = rec.samples.filter(
      (s) => s.kind === "GET /v1/me" && s.startedAt >= stopAt && s.startedAt < restoredAt && s.status === 200,
    ).length;
    const reads = rec.samples.filter(
      (s) => s.kind === "GET /v1/me" && s.startedAt >= stopAt && s.startedAt < restoredAt,
    ).length;
    // From the moment the restart was issued: the API may succeed before our own readiness probe does.
    const writeRecovery = recoveryMs(rec, "PATCH /v1/me", startAt, (s) => s.status === 200);
    const acceptRecovery = recoveryMs(rec, "POST async identify", startAt, (s) => s.status === 202);
    console.log(`
primary-down: primary stopped for ${((restoredAt - stopAt) / 1000).toFixed(1)} s (stop took ${fmtMs(stoppedIn)})
  during the outage: ${during.n} requests, p99 ${fmtMs(during.p99)}, max ${fmtMs(during.max)}; reads answered 200 (replica): ${readsOk} of ${reads}
  unanswered (hung past 30 s): ${unanswered}; 5xx other than 503: ${fiveHundreds}
  recovery, from the restart command (the server itself needs ${fmtMs(restoredAt - startAt)}): writes ${fmtMs(writeRecovery)}, async identifications ${fmtMs(acceptRecovery)}
  lost: ${pending.size} of ${accepted.length} accepted identifications not completed`);
    if (pending.size > 0 || unanswered > 0 || fiveHundreds > 0) process.exitCode = 1;
    await stack.stop(process.exitCode === 1);
  } catch (err) {
    await stack.stop(true);
    throw err;
  }
}
