/**
 * `bun run bench identify` (or `bun bench/identify.ts`): POST /v1/identifications with a 1 MB JPEG against the
 * API as a real process (core 0) and the provider simulator as another (core 1) answering in 300 ms.
 * - cache miss: sequential uploads of distinct photos (same pixels, different bytes) -> p50/p95
 * - cache hit: sequential uploads of one photo -> p50/p95, then req/s with 8 concurrent clients
 * - stampede: 100 concurrent uploads of one new photo -> provider calls the simulator counted
 */
import sharp from "sharp";
import { startIdentifyStack } from "./identify-stack.ts";
import { fmt } from "./lib.ts";

const SIM_LATENCY_MS = 300;
const MISS_ROUNDS = Number(process.env.BENCH_IDENTIFY_MISSES ?? 30);
const HIT_ROUNDS = Number(process.env.BENCH_IDENTIFY_HITS ?? 60);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const THROUGHPUT_CLIENTS = 8;
const STAMPEDE = 100;
const METRICS_TOKEN = `bench-${crypto.randomUUID()}`;

/** A photo-like JPEG of about 1 MB: smooth gradients with grain, as a phone picture of a leaf. */
async function photoOfAboutOneMegabyte(): Promise<Uint8Array> {
  const width = 2000;
  const height = 1500;
  const raw = new Uint8Array(width * height * 3);
  let seed = 42;
  const noise = () => {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    return (seed >>> 24) % 40;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = (40 + ((x * 60) / width + noise())) | 0;
      raw[i + 1] = (90 + ((y * 120) / height + noise())) | 0;
      raw[i + 2] = (30 + (((x + y) * 40) / (width + height) + noise())) | 0;
    }
  }
  for (const quality of [95, 92, 90, 88, 85, 80, 75]) {
    const out = await sharp(raw, { raw: { width, height, channels: 3 } })
      .jpeg({ quality })
      .toBuffer();
    if (out.length <= 1_200_000) return new Uint8Array(out);
  }
  throw new Error("could not make a 1 MB JPEG");
}

/** The same picture with a unique JPEG comment after SOI: other bytes (a cache miss), the same pixels. */
function variant(jpeg: Uint8Array, tag: string): Uint8Array {
  const text = new TextEncoder().encode(tag);
  const segment = new Uint8Array(4 + text.length);
  segment.set([0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 255]);
  segment.set(text, 4);
  const out = new Uint8Array(jpeg.length + segment.length);
  out.set(jpeg.subarray(0, 2));
  out.set(segment, 2);
  out.set(jpeg.subarray(2), 2 + segment.length);
  return out;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runIdentifyBench(): Promise<Record<string, number>> {
  const stack = await startIdentifyStack({ METRICS_TOKEN });
  const base = stack.apiUrl;
  const simControl = stack.simControl;
  try {
    for (const provider of ["plant-id", "plant-id-health", "plantnet"]) {
      await simControl({ action: "setLatency", provider, ms: SIM_LATENCY_MS });
    }
    const accessToken = await stack.register();

    const photo = await photoOfAboutOneMegabyte();
    const upload = async (bytes: Uint8Array) => {
      const form = new FormData();
      form.append("images", new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }), "leaf.jpg");
      form.append("organs", "leaf");
      const started = performance.now();
      const res = await fetch(`${base}/v1/identifications`, {
        method: "POST",
        headers: { authorization: `Bearer ${accessToken}` },
        body: form,
      });
      const body = (await res.json()) as { providers?: Record<string, { cached: boolean }> };
      const ms = performance.now() - started;
      if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${JSON.stringify(body)}`);
      return { ms, cached: Object.values(body.providers ?? {}).every((p) => p.cached) };
    };

    // Warm-up: JIT, connection pools, sharp's first use; none of it counted.
    for (let i = 0; i < 3; i++) await upload(variant(photo, `warm-${i}-${crypto.randomUUID()}`));

    const misses: number[] = [];
    for (let i = 0; i < MISS_ROUNDS; i++) {
      const r = await upload(variant(photo, `miss-${i}-${crypto.randomUUID()}`));
      if (r.cached) throw new Error("a miss was answered from the cache");
      misses.push(r.ms);
    }

    const hot = variant(photo, `hot-${crypto.randomUUID()}`);
    await upload(hot);
    const hits: number[] = [];
    for (let i = 0; i < HIT_ROUNDS; i++) {
      const r = await upload(hot);
      if (!r.cached) throw new Error("a hit was not answered from the cache");
      hits.push(r.ms);
    }

    let done = 0;
    const until = performance.now() + THROUGHPUT_SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: THROUGHPUT_CLIENTS }, async () => {
        while (performance.now() < until) {
          await upload(hot);
          done += 1;
        }
      }),
    );
    const hitRps = done / ((performance.now() - started) / 1000);

    await simControl({ action: "resetCalls" });
    const stampedePhoto = variant(photo, `stampede-${crypto.randomUUID()}`);
    const stampedeStarted = performance.now();
    await Promise.all(Array.from({ length: STAMPEDE }, () => upload(stampedePhoto)));
    const stampedeMs = performance.now() - stampedeStarted;
    const counted = await stack.simCalls();
    if (process.env.BENCH_IDENTIFY_DEBUG) {
      const metrics = await (
        await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
      ).text();
      console.log(
        metrics
          .split("\n")
          .filter((l) => /^cache_/.test(l) && /plant/.test(l))
          .join("\n"),
      );
    }

    const figures = {
      photoBytes: photo.length,
      missP50Ms: percentile(misses, 50),
      missP95Ms: percentile(misses, 95),
      hitP50Ms: percentile(hits, 50),
      hitP95Ms: percentile(hits, 95),
      hitReqPerSec: hitRps,
      stampedeRequests: STAMPEDE,
      stampedeSeconds: stampedeMs / 1000,
      stampedePlantIdCalls: counted["plant-id"] ?? Number.NaN,
      stampedeHealthCalls: counted["plant-id-health"] ?? Number.NaN,
      stampedePlantNetCalls: counted.plantnet ?? Number.NaN,
    };
    console.log(
      `POST /v1/identifications, ${fmt(photo.length / 1_048_576, 2)} MB JPEG, simulator latency ${SIM_LATENCY_MS} ms, API on 1 core\n` +
        `  cache miss (${MISS_ROUNDS} sequential): p50 ${fmt(figures.missP50Ms)} ms  p95 ${fmt(figures.missP95Ms)} ms  (target p95 < ${SIM_LATENCY_MS + 150} ms)\n` +
        `  cache hit  (${HIT_ROUNDS} sequential): p50 ${fmt(figures.hitP50Ms)} ms  p95 ${fmt(figures.hitP95Ms)} ms  (target p95 < 50 ms)\n` +
        `  cache hit  (${THROUGHPUT_CLIENTS} concurrent, ${THROUGHPUT_SECONDS} s): ${fmt(hitRps)} req/s\n` +
        `  stampede   (${STAMPEDE} concurrent, one new photo, ${fmt(figures.stampedeSeconds, 2)} s): provider calls plant-id ${counted["plant-id"]}, ` +
        `health ${counted["plant-id-health"]}, plantnet ${counted.plantnet} (target 1 each)`,
    );
    return figures;
  } finally {
    await stack.stop();
  }
}

if (import.meta.main) await runIdentifyBench();
