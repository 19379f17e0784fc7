/**
 * The image's module pruner (scripts/image/prune-modules.ts) on a small node_modules tree: it removes what no
 * process reads and keeps everything a module resolution or a licence needs. The real production tree is
 * pruned and imported by the Dockerfile's deps stage (tests/deploy/image.test.ts builds it).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type PruneReport, pruneModules } from "../../scripts/image/prune-modules.ts";

let root: string;
let report: PruneReport;
const at = (path: string) => existsSync(join(root, "node_modules", path));

async function file(path: string, content = "x") {
  const full = join(root, "node_modules", path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, content);
}
const manifest = (body: object) => JSON.stringify({ name: "p", version: "1.0.0", ...body });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "plantc-prune-"));
  // Sources reached only through a bundler's custom condition (zod's shape): they go.
  await file(
    "zodlike/package.json",
    manifest({ exports: { ".": { "@zodlike/source": "./src/index.ts", import: "./index.js" } } }),
  );
  await file("zodlike/index.js", "export {}");
  await file("zodlike/src/index.ts", "export {}");
  await file("zodlike/index.d.ts");
  await file("zodlike/index.js.map");
  await file("zodlike/README.md");
  await file("zodlike/LICENSE.md");
  // Sources that are the runtime entry (debug's shape): they stay.
  await file("debuglike/package.json", manifest({ main: "./src/index.js" }));
  await file("debuglike/src/index.js", "module.exports = {}");
  await file("@scope/modlike/package.json", manifest({ module: "src/mod.js", main: "build/main.js" }));
  await file("@scope/modlike/src/mod.js");
  // A package's own tests, examples and docs go; a nested install is pruned the same way.
  await file("withtests/package.json", manifest({ main: "index.js" }));
  await file("withtests/test/big.js", "x".repeat(10_000));
  await file("withtests/examples/a.js");
  await file("withtests/docs/guide.md");
  await file("withtests/lib/test/helper.js");
  await file("withtests/node_modules/inner/package.json", manifest({ main: "dist/index.js" }));
  await file("withtests/node_modules/inner/src/index.ts");
  await file("withtests/node_modules/inner/THIRD_PARTY_LICENSES.md");
  report = pruneModules(join(root, "node_modules"));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("pruning the production modules", () => {
  test("declarations, maps, Markdown and sources no manifest entry reaches are removed", () => {
    expect(at("zodlike/index.d.ts")).toBe(false);
    expect(at("zodlike/index.js.map")).toBe(false);
    expect(at("zodlike/README.md")).toBe(false);
    expect(at("zodlike/src")).toBe(false);
    expect(at("withtests/node_modules/inner/src")).toBe(false);
    expect(at("zodlike/index.js")).toBe(true);
  });

  test("sources that main, module or exports resolve to stay", () => {
    expect(at("debuglike/src/index.js")).toBe(true);
    expect(at("@scope/modlike/src/mod.js")).toBe(true);
  });

  test("a package's top-level tests, examples and docs go, a directory of the same name inside its code stays", () => {
    expect(at("withtests/test")).toBe(false);
    expect(at("withtests/examples")).toBe(false);
    expect(at("withtests/docs")).toBe(false);
    expect(at("withtests/lib/test/helper.js")).toBe(true);
  });

  test("licences and notices stay, and the report counts what each rule removed", () => {
    expect(at("zodlike/LICENSE.md")).toBe(true);
    expect(at("withtests/node_modules/inner/THIRD_PARTY_LICENSES.md")).toBe(true);
    expect(report["tests, examples, docs"]).toBeGreaterThanOrEqual(10_000);
    expect(report.src).toBeGreaterThan(0);
    expect(report.markdown).toBeGreaterThan(0);
    expect(report["declarations and maps"]).toBeGreaterThan(0);
  });
});

describe("keeping only named packages (the runtime image keeps sharp)", () => {
  let keepRoot: string;
  let keepReport: PruneReport;
  const kept = (path: string) => existsSync(join(keepRoot, "node_modules", path));
  beforeAll(async () => {
    keepRoot = await mkdtemp(join(tmpdir(), "plantc-keep-"));
    const put = async (path: string, body: object) => {
      await mkdir(dirname(join(keepRoot, "node_modules", path)), { recursive: true });
      await writeFile(join(keepRoot, "node_modules", path), manifest(body));
    };
    await put("native/package.json", {
      main: "index.js",
      dependencies: { helper: "1" },
      optionalDependencies: { "@native/linux-x64": "1", "@native/darwin-arm64": "1" },
    });
    await put("@native/linux-x64/package.json", { main: "index.js", dependencies: { libc: "1" } });
    await put("helper/package.json", { main: "index.js", dependencies: { nested: "2" } });
    await put("helper/node_modules/nested/package.json", { main: "index.js" });
    await put("nested/package.json", { main: "index.js" }); // another version, reached by nothing kept
    await put("libc/package.json", { main: "index.js" });
    await put("bundled-away/package.json", { main: "index.js", dependencies: { libc: "1" } });
    await put("@other/thing/package.json", { main: "index.js" });
    keepReport = pruneModules(join(keepRoot, "node_modules"), ["native"]);
  });
  afterAll(async () => {
    if (keepRoot) await rm(keepRoot, { recursive: true, force: true });
  });

  test("the named package and what it reaches through installed dependencies and optional ones stay", () => {
    for (const path of ["native", "@native/linux-x64", "helper", "helper/node_modules/nested", "libc"])
      expect([path, kept(`${path}/package.json`)]).toEqual([path, true]);
  });

  test("everything else goes, an emptied scope too, and the report counts it", () => {
    for (const path of ["nested", "bundled-away", "@other/thing", "@other"])
      expect([path, kept(path)]).toEqual([path, false]);
    expect(keepReport["not reached from the kept packages"]).toBeGreaterThan(0);
  });

  test("a kept package that is not installed fails the prune", async () => {
    const empty = await mkdtemp(join(tmpdir(), "plantc-keep-empty-"));
    await mkdir(join(empty, "node_modules"));
    expect(() => pruneModules(join(empty, "node_modules"), ["sharp"])).toThrow("sharp is not installed");
    await rm(empty, { recursive: true, force: true });
  });
});
