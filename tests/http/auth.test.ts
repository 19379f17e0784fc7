import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AcceptedSchema, SessionSchema } from "../../src/modules/auth/auth.schemas.ts";
import { sha256Hex } from "../../src/modules/auth/secrets.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { bearer, ipHeader, jsonRequest, registerUser, testIp, uniqueEmail } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  t.request(path, jsonRequest("POST", body, { ...ipHeader(t, testIp()), ...headers }));

async function session(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  expect(res.headers.get("cache-control")).toBe("private, no-store");
  return SessionSchema.parse(await res.json());
}

describe("POST /v1/auth/register", () => {
  async function accepted(res: Response) {
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    return AcceptedSchema.parse(await res.json());
  }

  test("creates an unconfirmed account with a normalised email, an argon2id hash and an audit record, and signs in", async () => {
    const email = uniqueEmail("Mixed");
    await accepted(
      await post("/v1/auth/register", {
        email: `  ${email.toUpperCase()} `,
        password: "a long enough password",
        displayName: "Ada",
      }),
    );
    const row = await t.deps.db.primary
      .selectFrom("users")
      .selectAll()
      .where("email", "=", email.toLowerCase())
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toStartWith("$argon2id$");
    expect(row.password_hash).toContain("m=19456,t=2");
    expect(row.email_verified_at).toBeNull();
    const audit = await t.deps.db.primary
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", row.id)
      .executeTakeFirstOrThrow();
    expect(audit.action).toBe("user.register");
    expect(JSON.stringify(audit.changes)).not.toContain(email.toLowerCase());

    // Unconfirmed accounts sign in (they identify a few plants only until they confirm).
    const s = await session(await post("/v1/auth/login", { email, password: "a long enough password" }), 200);
    expect(s.user).toMatchObject({
      id: row.id,
      email: email.toLowerCase(),
      role: "user",
      emailVerified: false,
    });
    expect(s.expiresIn).toBe(900);
    const stored = await t.deps.db.primary
      .selectFrom("refresh_tokens")
      .selectAll()
      .where("user_id", "=", row.id)
      .execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.token_hash).toBe(sha256Hex(s.refreshToken));
  });

  test("a taken address (in any case) answers exactly like a new one and changes nothing (finding: 409 told who is registered)", async () => {
    const taken = await registerUser(t);
    const fresh = await post("/v1/auth/register", {
      email: uniqueEmail(),
      password: "another long password",
      displayName: "B",
    });
    const again = await post("/v1/auth/register", {
      email: taken.email.toUpperCase(),
      password: "another long password",
      displayName: "B",
    });
    expect(again.status).toBe(fresh.status);
    expect([...again.headers.keys()].sort()).toEqual([...fresh.headers.keys()].sort());
    expect(await accepted(again)).toEqual(await accepted(fresh));
    const rows = await t.deps.db.primary
      .selectFrom("users")
      .select(["id", "password_hash", "display_name"])
      .where("email", "=", taken.email.toLowerCase())
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.display_name).toBe("Test User");
    // The owner's password still works; the stranger's does not.
    expect((await post("/v1/auth/login", { email: taken.email, password: taken.password })).status).toBe(200);
    await expectProblem(
      await post("/v1/auth/login", { email: taken.email, password: "another long password" }),
      401,
      "invalid_credentials",
    );
  });

  test("a password shorter than 12 characters or equal to the email is refused", async () => {
    const short = await expectProblem(
      await post("/v1/auth/register", { email: uniqueEmail(), password: "elevenchars", displayName: "A" }),
      400,
      "validation_failed",
    );
    expect(short.errors?.[0]?.path).toBe("json.password");
    const email = uniqueEmail();
    const same = await expectProblem(
      await post("/v1/auth/register", { email, password: email.toUpperCase(), displayName: "A" }),
      400,
      "validation_failed",
    );
    expect(same.errors?.map((e) => e.path)).toContain("json.password");
    const long = await expectProblem(
      await post("/v1/auth/register", { email: uniqueEmail(), password: "x".repeat(129), displayName: "A" }),
      400,
      "validation_failed",
    );
    expect(long.errors?.[0]?.path).toBe("json.password");
  });
});

describe("POST /v1/auth/login", () => {
  test("signs in with the right password, whatever the case of the email", async () => {
    const u = await registerUser(t);
    const s = await session(
      await post("/v1/auth/login", { email: u.email.toUpperCase(), password: u.password }),
      200,
    );
    expect(s.user.id).toBe(u.user.id);
    const me = await t.request("/v1/me", { headers: bearer(s.accessToken) });
    expect(me.status).toBe(200);
    expect(UserSchema.parse(await me.json()).id).toBe(u.user.id);
  });

  test("a wrong password and an unknown email answer the very same 401", async () => {
    const u = await registerUser(t);
    const wrong = await expectProblem(
      await post("/v1/auth/login", { email: u.email, password: "not the password" }),
      401,
      "invalid_credentials",
    );
    const unknown = await expectProblem(
      await post("/v1/auth/login", { email: uniqueEmail("nobody"), password: "not the password" }),
      401,
      "invalid_credentials",
    );
    // Per-request ids (request, trace) differ by nature; everything else must be identical.
    const same = { requestId: "", traceId: "", instance: "" };
    expect({ ...wrong, ...same }).toEqual({ ...unknown, ...same });
  });
});

describe("refresh token rotation", () => {
  test("register -> login -> refresh -> reusing the old refresh token revokes the whole family", async () => {
    const u = await registerUser(t);
    const login = await session(await post("/v1/auth/login", { email: u.email, password: u.password }), 200);
    const rotated = await session(await post("/v1/auth/refresh", { refreshToken: login.refreshToken }), 200);
    expect(rotated.refreshToken).not.toBe(login.refreshToken);
    expect(rotated.user.id).toBe(u.user.id);
    expect((await t.request("/v1/me", { headers: bearer(rotated.accessToken) })).status).toBe(200);

    await expectProblem(
      await post("/v1/auth/refresh", { refreshToken: login.refreshToken }),
      401,
      "invalid_refresh_token",
    );

    // The family is gone: the newest refresh token and the family's access tokens stop working too.
    await expectProblem(
      await post("/v1/auth/refresh", { refreshToken: rotated.refreshToken }),
      401,
      "invalid_refresh_token",
    );
    await expectProblem(
      await t.request("/v1/me", { headers: bearer(rotated.accessToken) }),
      401,
      "invalid_token",
    );
    const family = await t.deps.db.primary
      .selectFrom("refresh_tokens")
      .select(["revoked_at"])
      .where("token_hash", "=", sha256Hex(rotated.refreshToken))
      .executeTakeFirstOrThrow();
    expect(family.revoked_at).toBeInstanceOf(Date);
    const audit = await t.deps.db.primary
      .selectFrom("audit_log")
      .select("action")
      .where("actor_user_id", "=", u.user.id)
      .where("action", "=", "auth.refresh_reuse")
      .execute();
    expect(audit).toHaveLength(1);
    // Other sessions of the same user are untouched.
    expect((await t.request("/v1/me", { headers: u.headers })).status).toBe(200);
  });

  test("an unknown refresh token answers 401", async () => {
    await expectProblem(
      await post("/v1/auth/refresh", { refreshToken: "not-a-real-token" }),
      401,
      "invalid_refresh_token",
    );
  });

  test("logout revokes the session: its refresh and access tokens stop working, and a second logout is harmless", async () => {
    const u = await registerUser(t);
    const out = await post("/v1/auth/logout", { refreshToken: u.refreshToken });
    expect(out.status).toBe(204);
    await expectProblem(
      await post("/v1/auth/refresh", { refreshToken: u.refreshToken }),
      401,
      "invalid_refresh_token",
    );
    await expectProblem(await t.request("/v1/me", { headers: u.headers }), 401, "invalid_token");
    expect((await post("/v1/auth/logout", { refreshToken: u.refreshToken })).status).toBe(204);
  });
});

describe("password strength (finding: twelve spaces were accepted; nothing checked common passwords)", () => {
  const register = (password: string, email = uniqueEmail()) =>
    post("/v1/auth/register", { email, password, displayName: "Ada Lovelace" });

  test("twelve spaces are refused", async () => {
    const problem = await expectProblem(await register(" ".repeat(12)), 400, "validation_failed");
    expect(problem.errors).toEqual([{ path: "json.password", message: "must not be only spaces" }]);
  });

  test.each([
    ["a common password", "password1234", "commonly used password"],
    ["a keyboard pattern", "qwertyuiop123", "commonly used password"],
    ["a repeated character", "aaaaaaaaaaaaaaaa", "Repeated characters"],
    ["the person's own name", "Ada Lovelace!", "personal"],
  ])("%s is refused with a problem listing why", async (_, password, why) => {
    const email = uniqueEmail();
    const problem = await expectProblem(await register(password, email), 400, "validation_failed");
    expect(problem.errors!.length).toBeGreaterThan(0);
    expect(problem.errors!.every((e) => e.path === "json.password")).toBe(true);
    expect(problem.errors!.map((e) => e.message).join(" | ")).toContain(why);
    const rows = await t.deps.db.primary
      .selectFrom("users")
      .select("id")
      .where("email", "=", email)
      .execute();
    expect(rows).toHaveLength(0);
  });

  test("a long, uncommon passphrase is accepted", async () => {
    expect((await register("violet kettle under the stairs")).status).toBe(202);
  });
});
