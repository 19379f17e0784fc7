import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { enqueue } from "../../src/infra/queues.ts";
import { AccountExportSchema } from "../../src/modules/account-data/account-data.schemas.ts";
import { eraseStoredPhotos } from "../../src/modules/account-data/erase-photos.ts";
import { eraseAccount } from "../../src/modules/account-data/erasure.ts";
import { signedArchivePath } from "../../src/modules/account-data/exports.ts";
import { IdentificationSchema } from "../../src/modules/identifications/identifications.schemas.ts";
import { NotificationPageSchema } from "../../src/modules/notifications/notifications.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { createApiKey, registerUser, type TestUser } from "../helpers/auth.ts";
import {
  identifyEnv,
  mediaDir,
  postIdentification,
  removeDir,
  startSimulator,
  uploadForm,
} from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";
import { s3StorageEnv } from "../helpers/s3-bucket.ts";
import { bodyText, header, startSmtpServer, type TestSmtpServer } from "../helpers/smtp.ts";
import { removeQueueKeys, startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";

/** Export and erasure end to end: the API, a real slow + fast lane worker, photos and archives in s3rver. */
let app: TestApp;
let sim: ProviderSimulator;
let dir: string;
let smtp: TestSmtpServer;
let worker: WorkerProcess;

const shared = () => ({
  ...s3StorageEnv(),
  // One deployment: the API verifies the links the worker signs.
  JWT_SECRET: `test-secret-${crypto.randomUUID()}`,
  ACCOUNT_ERASURE_GRACE_DAYS: "0",
});

beforeAll(async () => {
  sim = startSimulator();
  dir = await mediaDir();
  smtp = await startSmtpServer();
  const env = shared();
  app = await createTestApp(identifyEnv(sim, dir, env));
  worker = await startWorkerProcess(
    workerEnv(app, ["slow", "fast"], { ...env, SMTP_URL: smtp.url, PUBLIC_BASE_URL: "http://localhost" }),
  );
});
afterAll(async () => {
  await worker?.stop();
  await removeQueueKeys(app);
  await app?.close();
  await sim?.stop();
  await smtp?.stop();
  if (dir) await removeDir(dir);
});

async function identify(user: TestUser) {
  const res = await postIdentification(
    app,
    user.headers,
    uploadForm([await jpeg()], { includeHealth: "false" }),
  );
  expect(res.status).toBe(201);
  return IdentificationSchema.parse(await res.json());
}

/** A photo URL as an app follows it: the media route redirects to a presigned GET of the bucket (S3 driver). */
async function fetchPhoto(url: string): Promise<Response> {
  const res = await app.request(url);
  return res.status === 302 ? fetch(res.headers.get("location")!) : res;
}

async function exportOf(user: TestUser, href: string) {
  const res = await app.request(href, { headers: user.headers });
  expect(res.status).toBe(200);
  return AccountExportSchema.parse(await res.json());
}

/** Polls the export until the worker has built it (a condition with a deadline, not a sleep). */
async function readyExport(user: TestUser, href: string) {
  const ready = await waitFor(
    async () => {
      const e = await exportOf(user, href);
      return e.status === "ready" ? e : undefined;
    },
    { timeoutMs: 60_000, what: "the export to be ready" },
  );
  if (!ready) throw new Error("export not ready");
  return ready;
}

describe("POST /v1/me/export", () => {
  test("a worker builds the archive in storage and notifies the owner with a signed link that downloads their profile, identifications and photos", async () => {
    const user = await registerUser(app);
    const created = await identify(user);
    const photo = await (await fetchPhoto(created.images[0]!.url)).bytes();

    const res = await app.request("/v1/me/export", { method: "POST", headers: user.headers });
    expect(res.status).toBe(202);
    const queued = AccountExportSchema.parse(await res.json());
    expect(queued.status).toBe("queued");
    expect(res.headers.get("location")).toBe(queued.links.self);
    expect(queued.links.download).toBeUndefined();

    const ready = await readyExport(user, queued.links.self);
    expect(Date.parse(ready.expiresAt!) - Date.parse(ready.completedAt!)).toBe(24 * 3_600_000);
    const stored = await app.deps.storage.get(`exports/${user.user.id}/${ready.id}.tar.gz`);
    expect(stored?.size).toBe(ready.byteSize!);

    // In the app: a notification linking the export, carrying the signed link.
    const page = NotificationPageSchema.parse(
      await (await app.request("/v1/notifications", { headers: user.headers })).json(),
    );
    const notice = page.data.find((n) => n.kind === "export.ready");
    if (notice?.kind !== "export.ready") throw new Error("no export.ready notification");
    expect(notice.data.exportId).toBe(ready.id);
    expect((await exportOf(user, notice.links.export!)).id).toBe(ready.id);
    const link = notice.data.downloadUrl;
    // By e-mail: the same link.
    const mail = await waitFor(
      () =>
        smtp.messages.find(
          (m) =>
            m.to.includes(user.email.toLowerCase()) &&
            header(m.raw, "subject") === "Your data export is ready",
        ),
      {
        timeoutMs: 30_000,
        what: "the export e-mail",
      },
    );
    expect(bodyText(mail!.raw)).toContain(link);

    const download = await app.request(link, { headers: user.headers });
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/gzip");
    const files = await new Bun.Archive(await download.bytes()).files();
    const profile = JSON.parse(await files.get("profile.json")!.text());
    expect(profile).toMatchObject({ id: user.user.id, email: user.email.toLowerCase() });
    const identifications = JSON.parse(await files.get("identifications.json")!.text()) as {
      id: string;
      photos: { file: string }[];
    }[];
    expect(identifications.map((i) => i.id)).toEqual([created.id]);
    const archived = files.get(identifications[0]!.photos[0]!.file)!;
    expect(new Uint8Array(await archived.arrayBuffer())).toEqual(new Uint8Array(photo));

    // The GET of the export offers a download link that works too.
    const again = await app.request(ready.links.download!, { headers: user.headers });
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  });

  test("a tampered or expired link is refused, and another account cannot use the link", async () => {
    const user = await registerUser(app);
    const res = await app.request("/v1/me/export", { method: "POST", headers: user.headers });
    const queued = AccountExportSchema.parse(await res.json());
    const ready = await readyExport(user, queued.links.self);
    const link = new URL(ready.links.download!);
    const tampered = new URL(link);
    const sig = link.searchParams.get("signature")!;
    tampered.searchParams.set("signature", `${sig.slice(0, -1)}${sig.endsWith("A") ? "B" : "A"}`);
    await expectProblem(
      await app.request(tampered.href, { headers: user.headers }),
      403,
      "invalid_link_signature",
    );
    const stretched = new URL(link);
    stretched.searchParams.set("expires", String(Number(link.searchParams.get("expires")) + 3600));
    await expectProblem(
      await app.request(stretched.href, { headers: user.headers }),
      403,
      "invalid_link_signature",
    );

    const expiredPath = signedArchivePath(app.config, user.user.id, ready.id, new Date(Date.now() - 1_000));
    await expectProblem(await app.request(expiredPath, { headers: user.headers }), 410, "link_expired");

    const stranger = await registerUser(app);
    await expectProblem(await app.request(link.href, { headers: stranger.headers }), 404, "not_found");
    await expectProblem(await app.request(link.href), 401, "unauthenticated");
    expect((await app.request(link.href, { headers: user.headers })).status).toBe(200);
  });
});

describe("DELETE /v1/me, then erasure", () => {
  test("photos stop being served at once; after the grace period the job erases photos, rows, keys and tokens and anonymises the audit trail", async () => {
    const user = await registerUser(app);
    const first = await identify(user);
    const second = await identify(user);
    await createApiKey(app, user.accessToken, ["species:read"]);
    const media = await app.deps.db.primary
      .selectFrom("media")
      .select(["id", "storage_key", "thumbnail_key"])
      .where("identification_id", "in", [first.id, second.id])
      .execute();
    const keys = media.flatMap((m) => [m.storage_key, m.thumbnail_key]);
    for (const url of [...first.links.images, ...first.links.thumbnails])
      expect((await fetchPhoto(url)).status).toBe(200);

    expect((await app.request("/v1/me", { method: "DELETE", headers: user.headers })).status).toBe(204);
    for (const url of [...first.links.images, ...first.links.thumbnails, ...second.links.images])
      await expectProblem(await app.request(url), 404, "not_found");

    // An earlier run that stopped halfway (one photo already erased) is finished by the next one.
    const m0 = media[0]!;
    await eraseStoredPhotos(app.deps, [
      { id: m0.id, storageKey: m0.storage_key, thumbnailKey: m0.thumbnail_key },
    ]);
    await enqueue(
      app.deps,
      "account.erase",
      {},
      { groupId: "system:account.erase", jobId: `erase-${crypto.randomUUID()}` },
    );
    const erased = await waitFor(
      async () => {
        const row = await app.deps.db.primary
          .selectFrom("users")
          .selectAll()
          .where("id", "=", user.user.id)
          .executeTakeFirstOrThrow();
        return row.erased_at ? row : undefined;
      },
      { timeoutMs: 60_000, what: "the account to be erased" },
    );
    expect(erased!.email).toBe(`erased-${user.user.id}@erased.invalid`);
    expect(erased!.display_name).toBe("");
    expect(erased!.password_hash).toBe("");

    for (const key of keys) expect(await app.deps.storage.get(key)).toBeUndefined();
    const db = app.deps.db.primary;
    const count = async (table: "identifications" | "api_keys" | "refresh_tokens" | "notifications") =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as("n"))
            .where("user_id", "=", user.user.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count("identifications")).toBe(0);
    expect(await count("api_keys")).toBe(0);
    expect(await count("refresh_tokens")).toBe(0);
    const audit = await sql<{ n: string }>`
      select count(*) as n from audit_log
       where actor_user_id = ${user.user.id} or entity_id = ${user.user.id}`.execute(db);
    expect(Number(audit.rows[0]!.n)).toBe(0);
    expect(
      (
        await db
          .selectFrom("media")
          .select("id")
          .where(
            "id",
            "in",
            media.map((m) => m.id),
          )
          .execute()
      ).length,
    ).toBe(0);

    // Again: nothing left to do, no error.
    const rerun = await eraseAccount(app.deps, user.user.id, new AbortController().signal);
    expect(rerun).toEqual({ photos: 0, uploads: 0, rows: 0, auditRows: 0, erased: false });
  });
});
