import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type ProviderSimulator, startProviderSimulator } from "../simulators/provider-simulator.ts";
import { present, smallCatalogue, solidJpeg } from "./provider-fixtures.ts";

let sim: ProviderSimulator;
let leaf: Blob;

beforeAll(async () => {
  sim = startProviderSimulator({ catalogue: smallCatalogue });
  leaf = new Blob([(await solidJpeg(40, 160, 60)) as Uint8Array<ArrayBuffer>], { type: "image/jpeg" });
});
afterAll(() => sim.stop());
beforeEach(() => sim.control.reset());

function plantnetForm(fields: [string, string | Blob][]): FormData {
  const form = new FormData();
  for (const [name, value] of fields) {
    if (typeof value === "string") form.append(name, value);
    else form.append(name, value, "leaf.jpg");
  }
  return form;
}

async function postPlantNet(form: FormData, query = "api-key=sim-plantnet-key") {
  const res = await fetch(`${sim.plantnetBaseUrl}/identify/k-world-flora?${query}`, {
    method: "POST",
    body: form,
  });
  return { status: res.status, body: (await res.json()) as { message?: string } };
}

describe("PlantNet simulator strictness (so a client mistake fails a test)", () => {
  test("it accepts one organs field per image with options in the query", async () => {
    const form = plantnetForm([
      ["images", leaf],
      ["organs", "leaf"],
    ]);
    const { status } = await postPlantNet(
      form,
      "api-key=sim-plantnet-key&nb-results=3&lang=en&no-reject=false",
    );
    expect(status).toBe(200);
  });

  test("it rejects a different number of organs and images with PlantNet's message", async () => {
    const form = plantnetForm([
      ["images", leaf],
      ["images", leaf],
      ["organs", "leaf"],
    ]);
    const { status, body } = await postPlantNet(form);
    expect(status).toBe(400);
    expect(body.message).toBe("images[] length and organs[] length must be equal");
  });

  test("it rejects indexed organ names", async () => {
    const { status } = await postPlantNet(
      plantnetForm([
        ["images", leaf],
        ["organs[0]", "leaf"],
      ]),
    );
    expect(status).toBe(400);
  });

  test("it rejects options sent as form fields", async () => {
    const form = plantnetForm([
      ["images", leaf],
      ["organs", "leaf"],
      ["nb-results", "3"],
    ]);
    const { status, body } = await postPlantNet(form);
    expect(status).toBe(400);
    expect(body.message).toContain("nb-results");
  });

  test("it wants the API key as a query parameter", async () => {
    const res = await fetch(`${sim.plantnetBaseUrl}/identify/k-world-flora`, {
      method: "POST",
      headers: { "Api-Key": "sim-plantnet-key" },
      body: plantnetForm([
        ["images", leaf],
        ["organs", "leaf"],
      ]),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ statusCode: 401, error: "Unauthorized", message: "Invalid API key" });
  });
});

describe("Plant.id simulator strictness", () => {
  const identify = (body: unknown, key = "sim-plant-id-key") =>
    fetch(`${sim.plantIdBaseUrl}/identification`, {
      method: "POST",
      headers: { "Api-Key": key, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  test("it rejects a misspelled images field and images that are not base64", async () => {
    expect((await identify({ image: "abcd" })).status).toBe(400);
    expect((await identify({ images: ["%%%%"] })).status).toBe(400);
  });

  test("it answers a wrong key with 401 and a JSON error body", async () => {
    const res = await identify({ images: ["abcd"] }, "nope");
    expect(res.status).toBe(401);
    expect(await res.json()).toHaveProperty("error");
  });

  test("it returns only the details that were asked for", async () => {
    const image = Buffer.from(await leaf.arrayBuffer()).toString("base64");
    const res = await fetch(`${sim.plantIdBaseUrl}/identification?details=common_names`, {
      method: "POST",
      headers: { "Api-Key": "sim-plant-id-key", "Content-Type": "application/json" },
      body: JSON.stringify({ images: [image] }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      status: string;
      access_token: string;
      result: { classification: { suggestions: { details: Record<string, unknown> }[] } };
    };
    expect(body.status).toBe("COMPLETED");
    expect(body.access_token).toBeString();
    const details = present(body.result.classification.suggestions[0]).details;
    expect(details).toHaveProperty("common_names");
    expect(details).not.toHaveProperty("taxonomy");
  });
});

describe("simulator control over HTTP", () => {
  test("a failure armed through /__sim/control is served and counted in /__sim/calls", async () => {
    const arm = await fetch(`${sim.url}/__sim/control`, {
      method: "POST",
      body: JSON.stringify({ action: "failWith", provider: "plantnet", status: 502, times: 1 }),
    });
    expect(arm.status).toBe(200);
    const first = await postPlantNet(
      plantnetForm([
        ["images", leaf],
        ["organs", "leaf"],
      ]),
    );
    const second = await postPlantNet(
      plantnetForm([
        ["images", leaf],
        ["organs", "leaf"],
      ]),
    );
    expect([first.status, second.status]).toEqual([502, 200]);
    const calls = await fetch(`${sim.url}/__sim/calls`).then((r) => r.json());
    expect(calls).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 2 });
  });

  test("a malformed control command is refused", async () => {
    const res = await fetch(`${sim.url}/__sim/control`, {
      method: "POST",
      body: JSON.stringify({ action: "explode" }),
    });
    expect(res.status).toBe(400);
  });

  test("POST /__sim/reset clears failures and call counts", async () => {
    sim.control.failWith("plantnet", 500);
    await postPlantNet(
      plantnetForm([
        ["images", leaf],
        ["organs", "leaf"],
      ]),
    );
    expect((await fetch(`${sim.url}/__sim/reset`, { method: "POST" })).status).toBe(200);
    expect(sim.control.calls("plantnet")).toBe(0);
    expect(
      (
        await postPlantNet(
          plantnetForm([
            ["images", leaf],
            ["organs", "leaf"],
          ]),
        )
      ).status,
    ).toBe(200);
  });

  test("reset releases a hung request, which then gets a normal answer", async () => {
    sim.control.hang("plantnet");
    const pending = postPlantNet(
      plantnetForm([
        ["images", leaf],
        ["organs", "leaf"],
      ]),
    );
    await sim.control.whenCalled("plantnet");
    sim.control.reset();
    expect((await pending).status).toBe(200);
  });

  test("stop() ends the server even while a request hangs", async () => {
    const other = startProviderSimulator({ catalogue: smallCatalogue });
    other.control.hang("plant-id");
    const pending = fetch(`${other.plantIdBaseUrl}/identification`, { method: "POST", body: "{}" }).then(
      (res) => res.status,
      () => "connection closed",
    );
    await other.control.whenCalled("plant-id");
    await other.stop();
    expect([503, "connection closed"]).toContain(await pending);
  });
});

describe("standalone simulator process", () => {
  test("it loads the catalogue, prints the address it listens on and answers there", async () => {
    const cataloguePath = `${Bun.env.TMPDIR ?? "/tmp"}/sim-catalogue-${crypto.randomUUID()}.json`;
    await Bun.write(
      cataloguePath,
      JSON.stringify(smallCatalogue.map((s) => ({ ...s, category: "houseplant", care: {} }))),
    );
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../simulators/main.ts")], {
      env: { ...Bun.env, PORT: "0", SIM_CATALOGUE_PATH: cataloguePath },
      stdout: "pipe",
      stderr: "inherit",
    });
    try {
      const firstLine = await readFirstLine(proc.stdout);
      const address = /^provider simulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(firstLine)?.[1];
      expect(address).toBeDefined();
      const calls = await fetch(`${address}/__sim/calls`).then((r) => r.json());
      expect(calls).toEqual({ "plant-id": 0, "plant-id-health": 0, plantnet: 0 });
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      await rm(cataloguePath, { force: true });
    }
  });
});

async function readFirstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n")) break;
  }
  return text.split("\n")[0] ?? "";
}
