import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";
import { createApp } from "../../src/app.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe("the application's router", () => {
  // src/http/router.ts names the TrieRouter to skip the RegExpRouter build that fails on our routes at the first
  // request. Should the route table become one the RegExpRouter accepts (faster matching), this fails: drop the
  // named router then.
  test("is the router Hono's default would settle on for the same routes", () => {
    const { app } = createApp(t.deps, t.services);
    const hono = new SmartRouter<unknown>({ routers: [new RegExpRouter(), new TrieRouter()] });
    for (const route of app.routes) hono.add(route.method, route.path, route.handler);
    hono.match("GET", "/v1/species");
    expect(app.router.name).toBe("TrieRouter");
    expect(hono.activeRouter.name).toBe(app.router.name);
  });
});
