import { beforeAll, describe, expect, test } from "bun:test";
import { registerUser, type TestUser } from "../helpers/auth.ts";
import { postIdentification, uploadForm, useIdentifyApp } from "../helpers/identify.ts";
import { jpeg } from "../helpers/images.ts";

const fx = useIdentifyApp();
let user: TestUser;
beforeAll(async () => {
  user = await registerUser(fx.app);
});

const value = async (name: "identifications" | "identificationsSuccess") =>
  (await fx.app.deps.metrics[name].get()).values.reduce((n, v) => n + v.value, 0);

describe("trace context", () => {
  test("provider calls carry the request's trace id in a child traceparent", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await postIdentification(
      fx.app,
      { ...user.headers, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      uploadForm([await jpeg()]),
    );
    expect(res.status).toBe(201);
    for (const provider of ["plant-id", "plantnet"] as const) {
      const sent = fx.sim.control.lastTraceparent[provider];
      expect(sent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
      expect(sent).not.toContain("00f067aa0ba902b7");
    }
  });
});

describe("business metrics", () => {
  test("a completed identification moves both identification counters", async () => {
    const [total, success] = [await value("identifications"), await value("identificationsSuccess")];
    const res = await postIdentification(fx.app, user.headers, uploadForm([await jpeg()]));
    expect(res.status).toBe(201);
    expect(await value("identifications")).toBe(total + 1);
    expect(await value("identificationsSuccess")).toBe(success + 1);
  });

  test("an identification neither provider could answer counts as attempted, not as a success", async () => {
    fx.sim.control.failWith("plant-id", 503);
    fx.sim.control.failWith("plantnet", 503);
    try {
      const [total, success] = [await value("identifications"), await value("identificationsSuccess")];
      const res = await postIdentification(
        fx.app,
        user.headers,
        uploadForm([await jpeg()], { includeHealth: "false" }),
      );
      expect(res.status).toBe(503);
      expect(await value("identifications")).toBe(total + 1);
      expect(await value("identificationsSuccess")).toBe(success);
    } finally {
      fx.sim.control.reset();
    }
  });
});
