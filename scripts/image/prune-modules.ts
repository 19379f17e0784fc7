/**
 * Removes from an installed `node_modules` what no running process reads (issue #11: image size), run by the
 * Dockerfile's deps stage on the production install:
 *
 * - type declarations and source maps;
 * - each package's own test, example and docs directories, and its Markdown files other than licences and
 *   notices (those stay: the licences of what we ship go with it);
 * - a package's top-level `src/` when nothing that resolves a module reaches into it: `main`, `module`,
 *   `browser`, `bin` and `exports` (except conditions named `@scope/...`, such as zod's `@zod/source`, which
 *   only a bundler configured for them uses). zod, the zxcvbn dictionaries and sharp ship their sources beside
 *   the compiled files this way.
 *
 * - with packages named (the runtime image's: the bundle carries everything else, scripts/build.ts), every
 *   installed package that none of them reaches through `dependencies` or installed `optionalDependencies`.
 *
 * Then every production dependency (or each named package) is imported once, so a prune that removed an entry
 * point fails the build.
 *
 * CLI: `bun scripts/image/prune-modules.ts [node_modules dir] [package.json] [package to keep...]` prints what
 * each rule removed.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const DROPPED_FILES = /\.(d\.ts|d\.cts|d\.mts|map)$/;
const DROPPED_DIRS = new Set(["test", "tests", "__tests__", "example", "examples", "docs"]);
const KEPT_MARKDOWN = /licen[cs]e|notice|copying|authors|patents/i;

export type PruneReport = Record<
  | "declarations and maps"
  | "tests, examples, docs"
  | "markdown"
  | "src"
  | "not reached from the kept packages",
  number
>;

function sizeOf(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += sizeOf(join(path, entry));
  return total;
}

function remove(path: string, report: PruneReport, rule: keyof PruneReport): void {
  report[rule] += sizeOf(path);
  rmSync(path, { recursive: true, force: true });
}

/** Every module path a package's manifest can resolve to, skipping `@scope/...` custom conditions. */
function manifestTargets(manifest: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) if (!key.startsWith("@")) walk(inner);
    }
  };
  for (const field of ["main", "module", "browser", "bin", "exports", "imports"]) walk(manifest[field]);
  return out;
}

const reachesSrc = (targets: string[]) => targets.some((t) => /^(\.\/)?src(\/|$)/.test(t));

function prunePackage(dir: string, report: PruneReport): void {
  const manifestPath = join(dir, "package.json");
  if (!existsSync(manifestPath)) return;
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Record<string, unknown>;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && DROPPED_DIRS.has(entry.name)) remove(path, report, "tests, examples, docs");
    else if (entry.isDirectory() && entry.name === "src" && !reachesSrc(manifestTargets(manifest)))
      remove(path, report, "src");
  }
}

function walkFiles(dir: string, report: PruneReport): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walkFiles(path, report);
    else if (DROPPED_FILES.test(entry.name)) remove(path, report, "declarations and maps");
    else if (entry.name.toLowerCase().endsWith(".md") && !KEPT_MARKDOWN.test(entry.name))
      remove(path, report, "markdown");
  }
}

/** The package directories of a node_modules tree, nested installs included. */
function packageDirs(modules: string): string[] {
  const dirs: string[] = [];
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const path = join(modules, entry.name);
    const found = entry.name.startsWith("@")
      ? readdirSync(path, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => join(path, e.name))
      : [path];
    for (const dir of found) {
      dirs.push(dir);
      const nested = join(dir, "node_modules");
      if (existsSync(nested)) dirs.push(...packageDirs(nested));
    }
  }
  return dirs;
}

/** The package directory `name` resolves to from `fromDir` (a package's own node_modules, then upwards). */
function resolvePackageDir(name: string, fromDir: string, modules: string): string | undefined {
  for (let dir = fromDir; dir.startsWith(modules); dir = join(dir, "..")) {
    const candidate = join(dir, dir === modules ? "" : "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === modules) break;
  }
  return undefined;
}

/** Removes every installed package that `keep` does not reach through its (installed) dependencies. */
function keepOnly(modules: string, keep: string[], report: PruneReport): void {
  const reached = new Set<string>();
  const visit = (name: string, fromDir: string) => {
    const dir = resolvePackageDir(name, fromDir, modules);
    if (!dir || reached.has(dir)) return;
    reached.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
      visit(dep, dir);
  };
  for (const name of keep) {
    visit(name, modules);
    if (!resolvePackageDir(name, modules, modules)) throw new Error(`${name} is not installed in ${modules}`);
  }
  for (const dir of packageDirs(modules)) {
    const insideReached = [...reached].some((r) => dir === r || dir.startsWith(`${r}/node_modules/`));
    if (!insideReached && existsSync(dir)) remove(dir, report, "not reached from the kept packages");
  }
  for (const scope of readdirSync(modules).filter((n) => n.startsWith("@")))
    if (readdirSync(join(modules, scope)).length === 0) rmSync(join(modules, scope), { recursive: true });
}

export function pruneModules(modules: string, keep: string[] = []): PruneReport {
  const report: PruneReport = {
    "declarations and maps": 0,
    "tests, examples, docs": 0,
    markdown: 0,
    src: 0,
    "not reached from the kept packages": 0,
  };
  if (keep.length) keepOnly(modules, keep, report);
  for (const dir of packageDirs(modules)) prunePackage(dir, report);
  walkFiles(modules, report);
  return report;
}

if (import.meta.main) {
  const modules = resolve(process.argv[2] ?? "node_modules");
  const manifest = JSON.parse(readFileSync(resolve(process.argv[3] ?? "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const keep = process.argv.slice(4);
  const report = pruneModules(modules, keep);
  for (const [rule, bytes] of Object.entries(report))
    console.log(`pruned ${rule}: ${(bytes / 1e6).toFixed(1)} MB`);
  // Resolved from the directory that holds node_modules, the way the app resolves them.
  const from = join(modules, "..");
  const entries = keep.length ? keep : Object.keys(manifest.dependencies ?? {});
  for (const dep of entries) await import(Bun.resolveSync(dep, from));
  console.log(`imported ${entries.length} ${keep.length ? "kept packages" : "production dependencies"}`);
}
