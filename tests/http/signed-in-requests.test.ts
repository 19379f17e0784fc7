/**
 * What a signed-in app's every request costs (issue #17): the access token is verified once per instance and
 * remembered, and the caller is written to active_users at most once per ACTIVE_USER_RECORD_EVERY_MS. Neither
 * may change an answer: a remembered token still expires, and the active-users window still moves.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ACTIVE_USER_RECORD_EVERY_MS } from "../../src/http/middleware/active-users.ts";
import { FakeClock } from "../../src/infra/clock.ts";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { expectProblem } from "../helpers/problem.ts";

let t: TestApp;
const clock = new FakeClock(Date.now());
beforeAll(async () => {
  t = await createTestApp({ ACCESS_TOKEN_TTL_SECONDS: "900" }, { clock });
});
afterAll(() => t.close());

/**
 * The score as of the request just answered: the middleware sends its write on the app's own Redis connection
 * before the answer is returned, and Redis runs one connection's commands in order, so this read (sent after,
 * on the same connection) sees any write that request made.
 */
const activeScore = async (userId: string) =>
  Number(await t.deps.redis.cache.zscore(`${t.config.redis.keyPrefix}active-users`, userId));

describe("a signed-in app's requests", () => {
  test("a token this instance verified before is refused with token_expired once its lifetime is over", async () => {
    const u = await registerUser(t);
    for (let i = 0; i < 3; i++) {
      const me = await t.request("/v1/me", { headers: u.headers });
      expect(me.status).toBe(200);
      expect(UserSchema.parse(await me.json()).id).toBe(u.user.id);
    }
    clock.advance(899_000);
    expect((await t.request("/v1/me", { headers: u.headers })).status).toBe(200);
    clock.advance(1_000);
    await expectProblem(await t.request("/v1/me", { headers: u.headers }), 401, "token_expired");
  });

  test("the caller's latest request time in active_users moves once per interval, not at every request", async () => {
    const u = await registerUser(t);
    const me = () => t.request("/v1/me", { headers: u.headers });
    expect((await me()).status).toBe(200);
    const first = clock.now();
    expect(await activeScore(u.user.id)).toBe(first);

    clock.advance(ACTIVE_USER_RECORD_EVERY_MS - 1);
    expect((await me()).status).toBe(200);
    expect(await activeScore(u.user.id)).toBe(first);

    clock.advance(1);
    expect((await me()).status).toBe(200);
    expect(await activeScore(u.user.id)).toBe(first + ACTIVE_USER_RECORD_EVERY_MS);
  });
});
