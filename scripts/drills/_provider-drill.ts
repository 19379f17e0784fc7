/**
 * The provider drills (provider-down, provider-hanging): both providers fail or hang for a while under sync
 * and async identification load, then recover. Clients should get prompt 503s with Retry-After once the
 * breakers are open, accepted (202) identifications should all complete after the outage without being
 * dead-lettered, and synchronous identifications should succeed again once the breakers' cool-down has passed.
 */
import { fmtMs, loop, photo, photoForm, Recorder, recoveryMs, report, worst } from "./_pg-load.ts";
import { startDrillStack } from "./_pg-stack.ts";

const PROVIDERS = ["plant-id", "plantnet", "plant-id-health"] as const;
/** Shorter than the 60 s default so the drill stays short; recovery is this cool-down plus a probe. */
const COOL_DOWN_MS = 10_000;

export async function providerDrill(opts: {
  name: string;
  fault: (provider: string) => object;
  outageMs: number;
}): Promise<void> {
  const stack = await startDrillStack({
    workers: ["default", "fast"],
    env: { BREAKER_COOL_DOWN_MS: String(COOL_DOWN_MS) },
  });
  try {
    const api = stack.apiUrl;
    const users = await Promise.all(Array.from({ length: 4 }, () => stack.register()));
    const auth = (i: number) => ({ authorization: `Bearer ${users[i]!.token}` });
    const rec = new Recorder();
    const accepted: string[] = [];

    const sync = loop(3, 50, async (c) => {
      const form = photoForm(await photo());
      await rec.time("POST identify (sync)", (signal) =>
        fetch(`${api}/v1/identifications`, { method: "POST", headers: auth(c), body: form, signal }),
      );
    });
    const async = loop(1, 200, async () => {
      const form = photoForm(await photo());
      const res = await rec.time("POST identify (async)", (signal) =>
        fetch(`${api}/v1/identifications`, {
          method: "POST",
          headers: { ...auth(3), prefer: "respond-async" },
          body: form,
          signal,
        }),
      );
      if (res?.status === 202) accepted.push(((await res.json()) as { id: string }).id);
    });

    await Bun.sleep(4_000);
    const faultAt = rec.now();
    for (const p of PROVIDERS) await stack.simControl(opts.fault(p));
    await Bun.sleep(opts.outageMs);
    const restoredAt = rec.now();
    await stack.simControl({ action: "reset" });
    // Until the breakers' cool-down has passed and a probe closed them, plus a little.
    await Bun.sleep(COOL_DOWN_MS + 5_000);
    await Promise.all([sync.stop(), async.stop()]);
    const endAt = rec.now();

    const deadline = Date.now() + 90_000;
    const pending = new Set(accepted);
    let failed = 0;
    while (pending.size > 0 && Date.now() < deadline) {
      for (const id of [...pending]) {
        const res = await fetch(`${api}/v1/identifications/${id}`, { headers: auth(3) });
        const status = res.ok ? ((await res.json()) as { status: string }).status : "unknown";
        if (status === "completed") pending.delete(id);
        if (status === "failed") {
          pending.delete(id);
          failed += 1;
        }
      }
      if (pending.size > 0) await Bun.sleep(500);
    }

    report(rec, [
      { name: "before", from: 0, to: faultAt },
      {
        name: `providers ${opts.name === "provider-down" ? "failing" : "hanging"}`,
        from: faultAt,
        to: restoredAt,
      },
      { name: "after the providers are back", from: restoredAt, to: endAt },
    ]);
    const during = worst(rec, faultAt, restoredAt);
    const fast = rec.samples.filter(
      (s) => s.kind === "POST identify (sync)" && s.startedAt >= faultAt && s.startedAt < restoredAt,
    );
    const lateHalf = fast.filter((s) => s.startedAt >= faultAt + opts.outageMs / 2).map((s) => s.ms);
    const lateP99 = [...lateHalf].sort((a, b) => a - b)[Math.max(0, Math.ceil(lateHalf.length * 0.99) - 1)];
    const unanswered = rec.samples.filter((s) => s.status === 0).length;
    const other5xx = rec.samples.filter((s) => s.status >= 500 && s.status !== 503).length;
    const recovery = recoveryMs(rec, "POST identify (sync)", restoredAt, (s) => s.status === 201);
    console.log(`
${opts.name}: both providers ${opts.name === "provider-down" ? "answering 503" : "hanging"} for ${((restoredAt - faultAt) / 1000).toFixed(1)} s (breaker cool-down ${COOL_DOWN_MS / 1000} s)
  during the outage: ${during.n} requests, p99 ${fmtMs(during.p99)}, max ${fmtMs(during.max)}; sync p99 in its second half (breakers open) ${fmtMs(lateP99 ?? Number.NaN)}
  unanswered (hung past 30 s): ${unanswered}; 5xx other than 503: ${other5xx}
  recovery: synchronous identifications succeed again ${fmtMs(recovery)} after the providers are back
  lost: ${pending.size + failed} of ${accepted.length} accepted identifications not completed (${failed} failed, ${pending.size} still pending)`);
    if (pending.size + failed > 0 || unanswered > 0 || other5xx > 0) process.exitCode = 1;
    await stack.stop(process.exitCode === 1);
  } catch (err) {
    await stack.stop(true);
    throw err;
  }
}
