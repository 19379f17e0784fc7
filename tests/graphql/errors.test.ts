import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { registerUser } from "../helpers/auth.ts";
import { graphqlClient, type ServedApp, serveApp } from "../helpers/graphql.ts";

let app: TestApp;
let served: ServedApp;
beforeAll(async () => {
  app = await createTestApp();
  served = serveApp(app);
});
afterAll(async () => {
  served.stop();
  await app.close();
});

test("an unexpected error in a resolver answers internal_error without its message, and is logged and tracked", async () => {
  const user = await registerUser(app);
  const logged: unknown[][] = [];
  const tracked: unknown[] = [];
  const logger = app.deps.logger as unknown as { error: (...args: unknown[]) => void };
  const tracker = app.deps.telemetry.errors as unknown as { capture: (err: unknown) => void };
  const [error, capture] = [logger.error, tracker.capture];
  logger.error = (...args) => logged.push(args);
  tracker.capture = (err) => tracked.push(err);
  const list = app.services.notifications.list;
  app.services.notifications.list = async () => {
    throw new Error("secret internal detail");
  };
  try {
    const res = await graphqlClient(served, user.headers)
      .query(`{ me { displayName } notifications { edges { node { id } } } }`, {})
      .toPromise();
    expect(res.data?.me).toEqual({ displayName: "Test User" });
    const [err] = res.error!.graphQLErrors;
    expect(err!.extensions.code).toBe("internal_error");
    expect(err!.message).not.toContain("secret");
    expect(err!.path).toEqual(["notifications"]);
    expect(logged.some((l) => String(l[1]).includes("unhandled error"))).toBe(true);
    expect(tracked.map((e) => (e as Error).message)).toEqual(["secret internal detail"]);
  } finally {
    app.services.notifications.list = list;
    logger.error = error;
    tracker.capture = capture;
  }
});
