/**
 * Defect 1 of issue #10: after a Redis restart groupmq's cached script SHAs answer NOSCRIPT for ever. With a
 * real redis-server of our own killed with SIGKILL and started again (empty), the same API and worker process
 * must take and finish jobs again, and readiness must say so while they cannot.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { ReadinessSchema } from "../../src/modules/system/system.schemas.ts";
import { waitFor } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { identificationRow } from "../helpers/background.ts";
import { uploadForm } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { useRedisFaultApp } from "../helpers/redis-fault-app.ts";
import { startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";

let worker: WorkerProcess;
const fx = useRedisFaultApp(
  { RATE_LIMIT_IDENTIFY: "1000/1h", PROVIDER_BUDGET_USER_DAILY: "0" },
  { beforeClose: async () => worker?.stop() },
);

beforeAll(async () => {
  worker = await startWorkerProcess(workerEnv(fx.app, ["default", "fast"], fx.env()));
});

async function submit(user: Awaited<ReturnType<typeof registerUser>>, image: Uint8Array) {
  return fx.app.request("/v1/identifications", {
    method: "POST",
    headers: { ...user.headers, prefer: "respond-async" },
    body: uploadForm([image]),
  });
}

async function completes(id: string) {
  await waitFor(async () => (await identificationRow(fx.app, id)).status === "completed", {
    timeoutMs: 20_000,
    what: `identification ${id} to complete`,
  });
}

async function readiness() {
  const res = await fx.app.request("/ready");
  return { status: res.status, body: ReadinessSchema.parse(await res.json()) };
}

describe("a Redis restart (kill -9, then started again empty)", () => {
  test("queues work again with the same API and worker process, and readiness tells the truth meanwhile", async () => {
    const user = await registerUser(fx.app);
    const image = await jpeg();
    const first = await submit(user, image);
    expect(first.status).toBe(202);
    await completes(((await first.json()) as { id: string }).id);

    await fx.redis.kill();
    // Down: /ready and the worker's /healthz fail, promptly.
    await waitFor(async () => (await readiness()).status === 503, { what: "/ready to fail" });
    expect((await readiness()).body.checks.queue.status).toBe("down");
    await waitFor(async () => (await fetch(worker.healthUrl)).status === 503, { what: "/healthz to fail" });

    await fx.redis.restart();
    // The server's script cache is now empty: every groupmq call starts with NOSCRIPT.
    await waitFor(async () => (await readiness()).status === 200, {
      timeoutMs: 10_000,
      what: "/ready to pass",
    });
    await waitFor(async () => (await fetch(worker.healthUrl)).status === 200, {
      timeoutMs: 10_000,
      what: "/healthz to pass",
    });
    const second = await submit(user, image);
    expect(second.status).toBe(202);
    await completes(((await second.json()) as { id: string }).id);
    expect(
      worker.lines.some((l) => String(l.message ?? "").includes("NOSCRIPT") && l.level === "error"),
    ).toBe(false);
  });
});
