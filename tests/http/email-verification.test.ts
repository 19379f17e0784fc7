import { describe, expect, test } from "bun:test";
import { UserSchema } from "../../src/modules/users/users.schemas.ts";
import { registerUser } from "../helpers/auth.ts";
import { identificationRowsOf, postIdentification, uploadForm, useIdentifyApp } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";
import { expectProblem } from "../helpers/problem.ts";

const fx = useIdentifyApp({ UNVERIFIED_IDENTIFICATION_ALLOWANCE: "2" });

describe("unconfirmed accounts identify a small, configurable number of plants", () => {
  test("an unconfirmed account makes its allowance, then gets 403 email_unverified until it confirms", async () => {
    const u = await registerUser(fx.app, { verified: false });
    const me = UserSchema.parse(await (await fx.app.request("/v1/me", { headers: u.headers })).json());
    expect(me.emailVerified).toBe(false);
    const photo = await jpeg();
    for (let i = 0; i < 2; i++)
      expect((await postIdentification(fx.app, u.headers, uploadForm([photo]))).status).toBe(201);
    const refused = await expectProblem(
      await postIdentification(fx.app, u.headers, uploadForm([photo])),
      403,
      "email_unverified",
    );
    expect(refused.detail).toContain("verify-email/resend");
    expect(await identificationRowsOf(fx.app, u.user.id)).toHaveLength(2);

    // Deleting does not refill the allowance.
    const [first] = await identificationRowsOf(fx.app, u.user.id);
    expect(
      (await fx.app.request(`/v1/identifications/${first!.id}`, { method: "DELETE", headers: u.headers }))
        .status,
    ).toBe(204);
    await expectProblem(
      await postIdentification(fx.app, u.headers, uploadForm([photo])),
      403,
      "email_unverified",
    );

    await fx.app.deps.db.primary
      .updateTable("users")
      .set({ email_verified_at: new Date() })
      .where("id", "=", u.user.id)
      .execute();
    expect((await postIdentification(fx.app, u.headers, uploadForm([photo]))).status).toBe(201);
  });

  test("batches need a confirmed address (one request could spend the whole allowance many times over)", async () => {
    const u = await registerUser(fx.app, { verified: false });
    const res = await fx.app.request("/v1/identification-batches", {
      method: "POST",
      headers: u.headers,
      body: uploadForm([await jpeg()]),
    });
    await expectProblem(res, 403, "email_unverified");
  });
});
