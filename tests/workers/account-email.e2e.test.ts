import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AcceptedSchema, SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createTestApp, type TestApp, waitFor } from "../helpers/app.ts";
import { bearer, jsonRequest, registerUser, testIp, uniqueEmail } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";
import {
  bodyText,
  header,
  type ReceivedMail,
  startSmtpServer,
  type TestSmtpServer,
} from "../helpers/smtp.ts";
import { removeQueueKeys, startWorkerProcess, type WorkerProcess, workerEnv } from "../helpers/workers.ts";

let app: TestApp;
let smtp: TestSmtpServer;
let worker: WorkerProcess;

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await createTestApp({ APP_LINK_BASE_URL: "https://app.plant.test" });
  worker = await startWorkerProcess(workerEnv(app, ["fast"], { SMTP_URL: smtp.url }));
});
afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await removeQueueKeys(app);
  await app?.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, jsonRequest("POST", body, { "fly-client-ip": testIp(), ...headers }));

/** The messages the real SMTP server received for `to`, once at least `count` have arrived. */
async function mailTo(to: string, count = 1): Promise<ReceivedMail[]> {
  const got = await waitFor<ReceivedMail[] | undefined>(
    () => {
      const got = smtp.messages.filter((m) => m.to.includes(to.toLowerCase()));
      return got.length >= count ? got : undefined;
    },
    { timeoutMs: 15_000, what: `${count} message(s) to ${to}` },
  );
  return got ?? [];
}

function linkToken(mail: ReceivedMail, page: string): string {
  const match = new RegExp(`https://app\\.plant\\.test/${page}\\?token=([A-Za-z0-9_-]+)`).exec(
    bodyText(mail.raw),
  );
  expect(match).not.toBeNull();
  return match![1]!;
}

describe("e-mail verification (finding: addresses were never verified)", () => {
  test("registering sends a confirmation link; following it once confirms the address", async () => {
    const email = uniqueEmail("verify");
    const password = `pw-${crypto.randomUUID()}`;
    const res = await post("/v1/auth/register", { email, password, displayName: "Vera" });
    expect(res.status).toBe(202);
    AcceptedSchema.parse(await res.json());

    const [mail] = await mailTo(email);
    expect(header(mail!.raw, "Subject")).toBe("Confirm your e-mail address");
    const token = linkToken(mail!, "verify-email");

    const login = await post("/v1/auth/login", { email, password });
    const session = SessionSchema.parse(await login.json());
    expect(session.user.emailVerified).toBe(false);

    expect((await post("/v1/auth/verify-email", { token })).status).toBe(204);
    const me = UserSchema.parse(
      await (await app.request("/v1/me", { headers: bearer(session.accessToken) })).json(),
    );
    expect(me.emailVerified).toBe(true);
    // Single use.
    await expectProblem(await post("/v1/auth/verify-email", { token }), 400, "invalid_email_token");
  });

  test("registering a taken address answers exactly like a new one, and e-mails the owner instead of the stranger", async () => {
    const owner = await registerUser(app);
    const before = smtp.messages.length;
    const fresh = await post("/v1/auth/register", {
      email: uniqueEmail("fresh"),
      password: "another long password",
      displayName: "F",
    });
    const taken = await post("/v1/auth/register", {
      email: owner.email.toUpperCase(),
      password: "another long password",
      displayName: "F",
    });
    expect(taken.status).toBe(fresh.status);
    expect(await taken.json()).toEqual(await fresh.json());

    // The owner's own registration sent the first message; the stranger's attempt the second.
    const notice = (await mailTo(owner.email, 2)).at(-1)!;
    expect(header(notice.raw, "Subject")).toBe("Someone tried to sign up with your address");
    expect(bodyText(notice.raw)).not.toContain("token=");
    // The new address got its confirmation link: both requests did their e-mail work.
    expect(smtp.messages.length).toBeGreaterThanOrEqual(before + 2);
  });

  test("an unconfirmed account can ask for a new link; the old one stops working", async () => {
    const u = await registerUser(app, { verified: false });
    const [first] = await mailTo(u.email);
    const oldToken = linkToken(first!, "verify-email");
    const res = await app.request("/v1/auth/verify-email/resend", { method: "POST", headers: u.headers });
    expect(res.status).toBe(202);
    const mails = await mailTo(u.email, 2);
    const newToken = linkToken(mails.at(-1)!, "verify-email");
    await expectProblem(await post("/v1/auth/verify-email", { token: oldToken }), 400, "invalid_email_token");
    expect((await post("/v1/auth/verify-email", { token: newToken })).status).toBe(204);
  });
});

describe("password reset by e-mailed single-use link", () => {
  test("the link sets a new (strong) password, signs every session out and works once", async () => {
    const u = await registerUser(app);
    const res = await post("/v1/auth/password-reset", { email: u.email.toUpperCase() });
    expect(res.status).toBe(202);
    const unknown = await post("/v1/auth/password-reset", { email: uniqueEmail("nobody") });
    expect(unknown.status).toBe(202);
    expect(await unknown.json()).toEqual(await res.json());

    const mails = await mailTo(u.email, 2);
    const reset = mails.find((m) => header(m.raw, "Subject") === "Reset your password")!;
    const token = linkToken(reset, "reset-password");

    const weak = await expectProblem(
      await post("/v1/auth/password-reset/confirm", { token, password: "password1234" }),
      400,
      "validation_failed",
    );
    expect(weak.errors?.every((e) => e.path === "json.password")).toBe(true);
    expect(weak.errors?.map((e) => e.message).join(" ")).toContain("commonly used password");

    const newPassword = `fresh-${crypto.randomUUID()}`;
    expect((await post("/v1/auth/password-reset/confirm", { token, password: newPassword })).status).toBe(
      204,
    );
    await expectProblem(await app.request("/v1/me", { headers: u.headers }), 401, "invalid_token");
    await expectProblem(
      await post("/v1/auth/refresh", { refreshToken: u.refreshToken }),
      401,
      "invalid_refresh_token",
    );
    await expectProblem(
      await post("/v1/auth/login", { email: u.email, password: u.password }),
      401,
      "invalid_credentials",
    );
    expect((await post("/v1/auth/login", { email: u.email, password: newPassword })).status).toBe(200);
    await expectProblem(
      await post("/v1/auth/password-reset/confirm", { token, password: `again-${crypto.randomUUID()}` }),
      400,
      "invalid_email_token",
    );
  });
});

describe("sign-in under attack, end to end", () => {
  test("the owner is e-mailed when strangers' failures slow the account down, and signs in with password + e-mailed code", async () => {
    const u = await registerUser(app);
    for (let i = 0; i < 20; i++)
      await expectProblem(
        await post("/v1/auth/login", { email: u.email, password: "wrong password" }),
        401,
        "invalid_credentials",
      );
    await expectProblem(
      await post("/v1/auth/login", { email: u.email, password: u.password }),
      429,
      "login_throttled",
    );

    const alert = (await mailTo(u.email, 2)).find(
      (m) => header(m.raw, "Subject") === "Many failed sign-ins to your account",
    );
    expect(alert).toBeDefined();

    const ask = await post("/v1/auth/login-code", { email: u.email });
    expect(ask.status).toBe(202);
    const ghost = await post("/v1/auth/login-code", { email: uniqueEmail("ghost") });
    expect(await ghost.json()).toEqual(await ask.json());
    const codeMail = await waitFor(
      () =>
        smtp.messages.find(
          (m) => m.to.includes(u.email) && header(m.raw, "Subject")?.startsWith("Your sign-in code"),
        ),
      { timeoutMs: 15_000, what: "the sign-in code" },
    );
    const code = /(\d{8})/.exec(header(codeMail!.raw, "Subject")!)![1]!;

    // A stranger with the code but not the password gets nowhere; the owner gets in at once.
    await expectProblem(
      await post("/v1/auth/login", { email: u.email, password: "wrong password", code }),
      401,
      "invalid_credentials",
    );
    const ok = await post("/v1/auth/login", { email: u.email, password: u.password, code });
    expect(ok.status).toBe(200);
    SessionSchema.parse(await ok.json());
    // Single use.
    await expectProblem(
      await post("/v1/auth/login", { email: u.email, password: u.password, code }),
      429,
      "login_throttled",
    );
  });
});
