import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import {
  identificationRowsOf,
  identifyEnv,
  mediaDir,
  postIdentification,
  removeDir,
  startSimulator,
  uploadForm,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

let sim: ProviderSimulator;
let dir: string;
let apps: [TestApp, TestApp];

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  // Two instances of the API sharing one Redis key space, as two machines of one deployment would.
  const shared = {
    REDIS_KEY_PREFIX: `test:${crypto.randomUUID()}:`,
    JWT_SECRET: `secret-${crypto.randomUUID()}`,
  };
  apps = [
    await createTestApp(identifyEnv(sim, dir, shared)),
    await createTestApp(identifyEnv(sim, dir, shared)),
  ];
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await sim.stop();
  await removeDir(dir);
});

describe("provider answers are cached with a single flight across instances", () => {
  test("50 concurrent identical uploads over two instances make exactly one call per provider", async () => {
    const user = await registerUser(apps[0]);
    const photo = await jpeg();
    // Slow providers keep the first call in flight while every other request arrives and waits for it.
    for (const provider of ["plant-id", "plant-id-health", "plantnet"] as const)
      sim.control.setLatency(provider, 300);

    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        postIdentification(apps[i % 2]!, user.headers, uploadForm([photo], { organs: "leaf" })),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
    const bodies = await Promise.all(responses.map(async (r) => IdentificationSchema.parse(await r.json())));

    expect(sim.control.allCalls()).toEqual({ "plant-id": 1, "plant-id-health": 1, plantnet: 1 });
    for (const provider of ["plantId", "plantnet", "plantIdHealth"] as const) {
      expect(bodies.filter((b) => b.providers[provider]?.cached === false)).toHaveLength(1);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b.suggestions))).size).toBe(1);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(50);
    expect(await identificationRowsOf(apps[0], user.user.id)).toHaveLength(50);

    const prefix = apps[0].config.redis.keyPrefix;
    const cached = await apps[0].deps.redis.cache.keys(`${prefix}cache:plant*`);
    expect(
      cached
        .filter((k) => !k.endsWith(":lock"))
        .map((k) => k.split(":")[3])
        .sort(),
    ).toEqual(["plant-id", "plant-id-health", "plantnet"]);
    const ttl = await apps[0].deps.redis.cache.ttl(cached.find((k) => k.includes(":plantnet:"))!);
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);
  });
});
