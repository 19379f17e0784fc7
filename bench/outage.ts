/**
 * Provider outage: the simulator hangs Plant.id. Identification latency while its breaker is CLOSED (each
 * request bounded by the Plant.id deadline), once it is OPEN (served by PlantNet alone), and with both breakers
 * open (the 503). Small distinct photos, so image work and the answer cache stay out of the figures.
 *
 * `bun run bench outage --timeline`: the same run with every request traced, then the breaker-OPEN requests'
 * median timeline from their own spans (bench/span-timeline.ts): where the time beside PlantNet's goes. Its
 * figures include tracing's cost and are not compared with the targets.
 */
import sharp from "sharp";
import { newTraceparent, traceIdOf } from "../src/infra/trace-context.ts";
import { startIdentifyStack } from "./identify-stack.ts";
import { fmt } from "./lib.ts";
import { startSpanReceiver } from "./span-timeline.ts";

const PLANT_ID_DEADLINE_MS = 1_000;
const PLANTNET_LATENCY_MS = 50;
const OPENS_AFTER = 5;
const SAMPLES = 200;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

let colour = 0;
async function smallPhoto(): Promise<Uint8Array> {
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

export async function runOutageBench(): Promise<Record<string, number> | undefined> {
  const receiver = process.argv.includes("--timeline") ? startSpanReceiver() : undefined;
  const stack = await startIdentifyStack({
    PLANT_ID_TIMEOUT_MS: String(PLANT_ID_DEADLINE_MS),
    BREAKER_CONSECUTIVE_FAILURES: String(OPENS_AFTER),
    ...(receiver && { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_TRACES_SAMPLER_ARG: "1" }),
  });
  const traced: string[] = [];
  const control = stack.simControl;
  const api = { url: stack.apiUrl };
  try {
    const accessToken = await stack.register();
    const photos = await Promise.all(Array.from({ length: OPENS_AFTER + 2 * SAMPLES + 20 }, smallPhoto));
    const identify = async (trace = false) => {
      // A known trace per request (a new sampled traceparent, as the API makes them): its spans are found by
      // its id afterwards.
      const traceparent = trace ? { traceparent: newTraceparent() } : undefined;
      if (traceparent) traced.push(traceIdOf(traceparent.traceparent)!);
      const form = new FormData();
      form.append(
        "images",
        new Blob([photos.pop()! as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
        "leaf.jpg",
      );
      form.append("includeHealth", "false");
      const started = performance.now();
      const res = await fetch(`${api.url}/v1/identifications`, {
        method: "POST",
        headers: { authorization: `Bearer ${accessToken}`, ...traceparent },
        body: form,
      });
      await res.arrayBuffer();
      return { ms: performance.now() - started, status: res.status };
    };

    await control({ action: "hang", provider: "plant-id" });
    await control({ action: "setLatency", provider: "plantnet", ms: PLANTNET_LATENCY_MS });
    const closed: number[] = [];
    for (let i = 0; i < OPENS_AFTER; i++) closed.push((await identify()).ms);
    const open: number[] = [];
    for (let i = 0; i < SAMPLES; i++) open.push((await identify(receiver !== undefined)).ms);

    await control({ action: "failWith", provider: "plantnet", status: 503 });
    for (let i = 0; i < OPENS_AFTER + 2; i++) await identify();
    const bothOpen: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const r = await identify();
      if (r.status !== 503) throw new Error(`expected 503 with both breakers open, got ${r.status}`);
      bothOpen.push(r.ms);
    }
    const figures = {
      closedP50Ms: pct(closed, 50),
      closedP99Ms: pct(closed, 99),
      openP50Ms: pct(open, 50),
      openP99Ms: pct(open, 99),
      bothOpenP50Ms: pct(bothOpen, 50),
      bothOpenP99Ms: pct(bothOpen, 99),
    };
    console.log(
      `Plant.id hanging, deadline ${PLANT_ID_DEADLINE_MS} ms, PlantNet answering in ${PLANTNET_LATENCY_MS} ms, 320x240 photos\n` +
        `breaker CLOSED (${closed.length} requests): p50 ${fmt(figures.closedP50Ms)} ms, p99 ${fmt(figures.closedP99Ms)} ms (bounded by the deadline)\n` +
        `breaker OPEN   (${open.length} requests): p50 ${fmt(figures.openP50Ms)} ms, p99 ${fmt(figures.openP99Ms)} ms ` +
        `(target p99 < 20 ms + PlantNet's ${PLANTNET_LATENCY_MS} ms)\n` +
        `both OPEN, 503 (${bothOpen.length} requests): p50 ${fmt(figures.bothOpenP50Ms, 2)} ms, p99 ${fmt(figures.bothOpenP99Ms, 2)} ms (target p99 < 5 ms)`,
    );
    if (!receiver) return figures;
    console.log("(tracing on: these figures include its cost and are not compared with the targets)");
    await receiver.timeline(traced, (name) => name.startsWith("POST /v1/identifications"));
    return undefined;
  } finally {
    await stack.stop();
    receiver?.stop();
  }
}

if (import.meta.main) await runOutageBench();
