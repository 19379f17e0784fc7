import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createPlantIdClient } from "../../src/infra/providers/plant-id.ts";
import { createPlantNetClient } from "../../src/infra/providers/plantnet.ts";
import { isProviderOutage, ProviderError } from "../../src/infra/providers/provider-error.ts";
import {
  NOT_A_PLANT_COLOUR,
  type ProviderSimulator,
  startProviderSimulator,
} from "../simulators/provider-simulator.ts";
import { present, smallCatalogue, solidJpeg, thrownBy } from "./provider-fixtures.ts";

let sim: ProviderSimulator;
let green: Uint8Array;
let brown: Uint8Array;
let magenta: Uint8Array;
const deadline = () => AbortSignal.timeout(5_000);

beforeAll(async () => {
  sim = startProviderSimulator({ catalogue: smallCatalogue });
  [green, brown, magenta] = await Promise.all([
    solidJpeg(30, 140, 40),
    solidJpeg(120, 80, 30),
    solidJpeg(NOT_A_PLANT_COLOUR.r, NOT_A_PLANT_COLOUR.g, NOT_A_PLANT_COLOUR.b),
  ]);
});
afterAll(() => sim.stop());
beforeEach(() => sim.control.reset());

const plantId = () => createPlantIdClient({ baseUrl: sim.plantIdBaseUrl, apiKey: "sim-plant-id-key" });
const plantnet = () => createPlantNetClient({ baseUrl: sim.plantnetBaseUrl, apiKey: "sim-plantnet-key" });

async function providerErrorOf(call: () => Promise<unknown>): Promise<ProviderError> {
  const err = await thrownBy(call);
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe("Plant.id client", () => {
  test("identify reads probabilities, taxonomy and similar images from a real-shaped answer", async () => {
    const result = await plantId().identify({ images: [green], latitude: 50.1, longitude: 14.4 }, deadline());

    expect(result.modelVersion).toBe("plant_id:3.6.0");
    expect(result.isPlant.binary).toBe(true);
    expect(result.suggestions.length).toBeGreaterThanOrEqual(3);
    const probabilities = result.suggestions.map((s) => s.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeLessThan(1);
    const top = present(result.suggestions[0]);
    const species = present(smallCatalogue.find((s) => s.scientificName === top.scientificName));
    expect(top).toMatchObject({
      family: species.family,
      genus: species.genus,
      commonNames: species.commonNames,
    });
    expect(top.similarImages[0]?.url).toStartWith("https://");
    expect(top.externalId).toBeString();
  });

  test("identify gives the same answer for the same image and another one for a different image", async () => {
    const names = async (image: Uint8Array) =>
      (await plantId().identify({ images: [image] }, deadline())).suggestions.map((s) => s.scientificName);
    expect(await names(green)).toEqual(await names(green));
    expect(await names(green)).not.toEqual(await names(brown));
  });

  test("identify reports a picture that is not a plant through isPlant", async () => {
    const result = await plantId().identify({ images: [magenta] }, deadline());
    expect(result.isPlant.binary).toBe(false);
    expect(result.isPlant.probability).toBeLessThan(0.1);
  });

  test("assessHealth reads is_healthy and the diseases with their treatments", async () => {
    const health = await plantId().assessHealth({ images: [green] }, deadline());
    expect(typeof health.isHealthy.binary).toBe("boolean");
    expect(health.diseases.length).toBeGreaterThan(0);
    const first = present(health.diseases[0]);
    expect(first.probability).toBeGreaterThan(0);
    expect(first.description).toBeString();
    expect(Array.isArray(first.treatment.prevention)).toBe(true);
    expect(sim.control.calls("plant-id-health")).toBe(1);
    expect(sim.control.calls("plant-id")).toBe(0);
  });

  test("a wrong API key is an http 401 error that counts as an outage", async () => {
    const client = createPlantIdClient({ baseUrl: sim.plantIdBaseUrl, apiKey: "wrong" });
    const err = await providerErrorOf(() => client.identify({ images: [green] }, deadline()));
    expect(err).toMatchObject({ provider: "plant-id", kind: "http", status: 401 });
    expect(isProviderOutage(err)).toBe(true);
  });

  test("a 500 from the provider is an outage", async () => {
    sim.control.failWith("plant-id", 500, 1);
    const err = await providerErrorOf(() => plantId().identify({ images: [green] }, deadline()));
    expect(err).toMatchObject({ kind: "http", status: 500 });
    expect(isProviderOutage(err)).toBe(true);
    expect((await plantId().identify({ images: [green] }, deadline())).suggestions.length).toBeGreaterThan(0);
  });

  test("a 429 carries Retry-After and is an outage", async () => {
    sim.control.failWith("plant-id", 429);
    const err = await providerErrorOf(() => plantId().identify({ images: [green] }, deadline()));
    expect(err).toMatchObject({ kind: "http", status: 429, retryAfterSeconds: 30 });
    expect(isProviderOutage(err)).toBe(true);
  });

  test("a 400 for an unreadable image is not an outage", async () => {
    const notAnImage = new TextEncoder().encode("definitely not a jpeg");
    const err = await providerErrorOf(() => plantId().identify({ images: [notAnImage] }, deadline()));
    expect(err).toMatchObject({ kind: "http", status: 400 });
    expect(isProviderOutage(err)).toBe(false);
  });

  test("an answer that says confidence instead of probability is an invalid response", async () => {
    const real = await fetch(`${sim.plantIdBaseUrl}/identification?details=common_names`, {
      method: "POST",
      headers: { "Api-Key": "sim-plant-id-key", "Content-Type": "application/json" },
      body: JSON.stringify({ images: [Buffer.from(green).toString("base64")] }),
    }).then((r) => r.text());
    const renamed = real.replaceAll('"probability"', '"confidence"');
    const client = createPlantIdClient({
      baseUrl: sim.plantIdBaseUrl,
      apiKey: "k",
      fetch: async () =>
        new Response(renamed, { status: 201, headers: { "Content-Type": "application/json" } }),
    });
    const err = await providerErrorOf(() => client.identify({ images: [green] }, deadline()));
    expect(err.kind).toBe("invalid_response");
    expect(isProviderOutage(err)).toBe(true);
  });

  test("the caller's deadline turns a hanging provider into a quick timeout", async () => {
    sim.control.hang("plant-id");
    const started = performance.now();
    const err = await providerErrorOf(() =>
      plantId().identify({ images: [green] }, AbortSignal.timeout(100)),
    );
    expect(err.kind).toBe("timeout");
    expect(isProviderOutage(err)).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  test("simulated latency beyond the deadline is a timeout", async () => {
    sim.control.setLatency("plant-id", 1_000);
    const err = await providerErrorOf(() =>
      plantId().identify({ images: [green] }, AbortSignal.timeout(100)),
    );
    expect(err.kind).toBe("timeout");
  });

  test("an already aborted signal fails as a timeout without calling the provider", async () => {
    const err = await providerErrorOf(() => plantId().identify({ images: [green] }, AbortSignal.abort()));
    expect(err.kind).toBe("timeout");
    expect(sim.control.calls("plant-id")).toBe(0);
  });

  test("an unreachable provider is a network error and an outage", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = closed.port;
    await closed.stop(true);
    const client = createPlantIdClient({ baseUrl: `http://127.0.0.1:${port}/v3`, apiKey: "k" });
    const err = await providerErrorOf(() => client.identify({ images: [green] }, deadline()));
    expect(err.kind).toBe("network");
    expect(isProviderOutage(err)).toBe(true);
  });
});

describe("PlantNet client", () => {
  test("identify reads scores, names without authorship, family, genus and GBIF id", async () => {
    const result = await plantnet().identify({ images: [{ bytes: green, organ: "leaf" }] }, deadline());
    if (result.status !== "ok") throw new Error("expected a match");

    const top = present(result.results[0]);
    expect(result.bestMatch).toStartWith(top.scientificName);
    expect(top.authorship).not.toBe("");
    expect(top.scientificName).not.toContain(top.authorship);
    expect(top).toMatchObject({
      family: expect.any(String),
      genus: expect.any(String),
      gbifId: expect.any(String),
    });
    expect(result.remainingIdentificationRequests).toBeNumber();
    const scores = result.results.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  test("its best match is Plant.id's first species for the same image, plus a species Plant.id did not name", async () => {
    const fromPlantId = await plantId().identify({ images: [brown] }, deadline());
    const fromPlantNet = await plantnet().identify({ images: [{ bytes: brown, organ: "auto" }] }, deadline());
    if (fromPlantNet.status !== "ok") throw new Error("expected a match");
    const plantIdNames = fromPlantId.suggestions.map((s) => s.scientificName);
    expect(fromPlantNet.results[0]?.scientificName).toBe(present(plantIdNames[0]));
    expect(fromPlantNet.results.some((r) => !plantIdNames.includes(r.scientificName))).toBe(true);
  });

  test("several images go out with one organ each, which the strict simulator accepts", async () => {
    const images = [
      { bytes: green, organ: "leaf" },
      { bytes: brown, organ: "bark" },
    ];
    const result = await plantnet().identify({ images, nbResults: 2, lang: "fr" }, deadline());
    expect(result.status).toBe("ok");
    if (result.status === "ok") expect(result.results.length).toBeLessThanOrEqual(2);
  });

  test("no match is a normal answer, not an error", async () => {
    expect(await plantnet().identify({ images: [{ bytes: magenta, organ: "auto" }] }, deadline())).toEqual({
      status: "no_match",
    });
    sim.control.noMatch("plantnet");
    expect(await plantnet().identify({ images: [{ bytes: green, organ: "leaf" }] }, deadline())).toEqual({
      status: "no_match",
    });
  });

  test("a 404 that is not 'Species not found' stays an error, but not an outage", async () => {
    sim.control.failWith("plantnet", 404, 1);
    const err = await providerErrorOf(() =>
      plantnet().identify({ images: [{ bytes: green, organ: "leaf" }] }, deadline()),
    );
    expect(err).toMatchObject({ provider: "plantnet", kind: "http", status: 404 });
    expect(isProviderOutage(err)).toBe(false);
  });

  test("a wrong API key, a 503 and a 429 are outages", async () => {
    const wrongKey = createPlantNetClient({ baseUrl: sim.plantnetBaseUrl, apiKey: "wrong" });
    const input = { images: [{ bytes: green, organ: "leaf" }] };
    const unauthorized = await providerErrorOf(() => wrongKey.identify(input, deadline()));
    expect(unauthorized.status).toBe(401);
    sim.control.failWith("plantnet", 503, 1);
    const unavailable = await providerErrorOf(() => plantnet().identify(input, deadline()));
    expect(unavailable.status).toBe(503);
    sim.control.failWith("plantnet", 429, 1);
    const limited = await providerErrorOf(() => plantnet().identify(input, deadline()));
    expect(limited).toMatchObject({ status: 429, retryAfterSeconds: 30 });
    expect([unauthorized, unavailable, limited].every(isProviderOutage)).toBe(true);
  });

  test("a hanging PlantNet call ends as a timeout at the caller's deadline", async () => {
    sim.control.hang("plantnet");
    const err = await providerErrorOf(() =>
      plantnet().identify({ images: [{ bytes: green, organ: "leaf" }] }, AbortSignal.timeout(100)),
    );
    expect(err.kind).toBe("timeout");
  });
});
