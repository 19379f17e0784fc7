/**
 * `bun run build`: the production bundle the image runs (Dockerfile, fly.toml): dist/app/main.js for every
 * process kind (src/entry.ts: the API, `worker`, `migrate <command>`), with its precompiled bytecode (`.jsc`
 * beside it) and a linked source map, so stack traces and error reports name our source files.
 *
 * Why: from its sources the API spent most of its start resolving, transpiling and compiling ~1,800 modules
 * (issue #17: cold start to the first answer < 200 ms; #11: container start-to-ready <= 1 s). One file with its
 * bytecode skips all three; the figures are printed by `bun run bench species` ("cold start").
 *
 * CommonJS because Bun writes bytecode for ESM only into `--compile` executables (one ~130 MB binary per
 * process kind, with the runtime inside); hence no top-level await in the entry points. Everything but
 * RUNTIME_PACKAGES is inside main.js, migrations too (`bundledMigrations` below), except the packages loaded only
 * on first use (GraphQL, the S3 SDK, the mailer, the password dictionaries): bundles of their own beside it,
 * `vendor/*.js` (SIDE_BUNDLES below), so that a start does not read them.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BunPlugin } from "bun";
import { MIGRATIONS_DIR, migrationNames } from "../src/db/migration-files.ts";

const ROOT = path.dirname(import.meta.dir);
export const BUNDLE_DIR = path.join(ROOT, "dist/app");
const BUNDLE_NAME = "main";
/** The bundle as fly.toml names it (relative to the app's root): dist/app/main.js. */
export const BUNDLE_FILE = path.relative(ROOT, path.join(BUNDLE_DIR, `${BUNDLE_NAME}.js`));
/** The bundle's entry: one file for every process kind (`main.js [api|worker|migrate <command>]`). */
const ENTRY = "src/entry.ts";
/**
 * What the bundle leaves to node_modules at run time, and so all the runtime image installs (the Dockerfile's
 * deps stage keeps these and what they depend on): sharp, a native addon.
 */
export const RUNTIME_PACKAGES = ["sharp"] as const;

/**
 * pino() reads its callers' file names (pino/lib/caller.js, through a stack trace) to resolve transport targets
 * relative to them. We use no transports (one JSON line per event to stdout, src/infra/logger.ts), and in the
 * bundle that stack trace is what made Bun load the 12 MB source map at every start (~45 ms of CPU): the map is
 * now read on the first error's stack trace instead.
 */
const pinoWithoutCallers: BunPlugin = {
  name: "pino-without-callers",
  setup(build) {
    build.onLoad({ filter: /[\\/]pino[\\/]lib[\\/]caller\.js$/ }, () => ({
      contents: "module.exports = function getCallers() { return []; };",
      loader: "js",
    }));
  },
};

/**
 * prom-client's index requires its Pushgateway at load, and with it node:http, node:https, node:url and
 * node:zlib: ~17 ms of the API's start (issue #17: cold start < 200 ms) for a class nothing here uses (Prometheus
 * scrapes us). The export becomes a getter that requires the same module on first use, so the API stays the
 * same. A prom-client whose index no longer has this line fails the build here.
 */
const promClientPushgatewayOnUse: BunPlugin = {
  name: "prom-client-pushgateway-on-use",
  setup(build) {
    build.onLoad({ filter: /[\\/]prom-client[\\/]index\.js$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      const eager = "exports.Pushgateway = require('./lib/pushgateway');";
      if (!source.includes(eager))
        throw new Error(`prom-client's index changed (${args.path}): see scripts/build.ts`);
      return {
        loader: "js",
        contents: source.replace(
          eager,
          "Object.defineProperty(exports, 'Pushgateway', { enumerable: true, get: () => require('./lib/pushgateway') });",
        ),
      };
    });
  },
};

/**
 * src/db/migration-files.ts reads migrations/ at run time; in the bundle it is replaced by static imports of the
 * same files, so the bundle carries its migrations and runs them with its own Kysely (nothing for the release
 * command to resolve from node_modules, no migrations/ directory in the image).
 */
const bundledMigrations: BunPlugin = {
  name: "bundled-migrations",
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]db[\\/]migration-files\.ts$/ }, async () => {
      // The same list, in the same order, as the module it replaces reads at run time.
      const names = await migrationNames();
      const imports = names.map(
        (n, i) => `import * as m${i} from ${JSON.stringify(path.join(MIGRATIONS_DIR, `${n}.ts`))};`,
      );
      const entries = names.map((n, i) => `${JSON.stringify(n)}: m${i}`);
      return {
        loader: "ts",
        contents: [
          ...imports,
          `const all = { ${entries.join(", ")} };`,
          "export async function migrationNames() { return Object.keys(all); }",
          "export async function loadMigrations() { return all; }",
        ].join("\n"),
      };
    });
  },
};

/**
 * groupmq reads its Lua scripts from files beside its module at run time, and a bundle keeps that module's
 * build-time path (Bun inlines `import.meta.url`): the image has no groupmq directory, so every queue call
 * failed there. The scripts are embedded in the bundle instead (the file read stays as the fallback). A newer
 * groupmq whose loader no longer has this line fails the build here rather than the queues in production.
 */
const groupmqScriptsInside: BunPlugin = {
  name: "groupmq-scripts-inside",
  setup(build) {
    build.onLoad({ filter: /[\\/]groupmq[\\/]dist[\\/]index\.js$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      const loader = 'const lua = fs.readFileSync(file, "utf8");';
      if (!source.includes(loader))
        throw new Error(`groupmq's script loader changed (${args.path}): see scripts/build.ts`);
      const dir = path.join(path.dirname(args.path), "lua");
      const scripts = Object.fromEntries(
        readdirSync(dir)
          .filter((f) => f.endsWith(".lua"))
          .map((f) => [f.replace(/\.lua$/, ""), readFileSync(path.join(dir, f), "utf8")]),
      );
      return {
        loader: "js",
        contents: source.replace(
          loader,
          `const lua = ${JSON.stringify(scripts)}[name] ?? fs.readFileSync(file, "utf8");`,
        ),
      };
    });
  },
};

/**
 * Packages the API loads only on first use (src/infra/lazy-module.ts and the like), each group built into a
 * bundle of its own beside main.js, `vendor/<group>.js` with its bytecode. Inside main.js they were read, with
 * their bytecode, at every start although nothing ran them: the bundle was 6.3 MB, of which these are ~3.3 MB
 * (the password dictionaries alone 1.6 MB), and reading and copying the bytes was most of the ~150 ms a start
 * spent before the first line of src/entry.ts ran (issue #17: cold start < 200 ms; RSS). A group is one bundle
 * so that packages sharing a dependency share one copy of it (one `graphql` for graphql-yoga and our schema, one
 * `@smithy/*` for the S3 client and its presigner). Only third-party packages go here: a module of ours in two
 * bundles would exist twice (two AppError classes, two registries).
 */
export const SIDE_BUNDLES: Readonly<Record<string, readonly string[]>> = {
  "password-dictionaries": ["@zxcvbn-ts/language-common", "@zxcvbn-ts/language-en"],
  s3: ["@aws-sdk/client-s3", "@aws-sdk/s3-request-presigner"],
  graphql: ["graphql", "graphql-yoga"],
  mail: ["nodemailer"],
};
const SIDE_DIR = "vendor";
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * In main.js, an import of a side-bundled package becomes `require("./vendor/<group>.js")[<package>]` at its
 * first evaluation (CommonJS: relative to main.js, wherever the bundle sits).
 */
const sideBundled: BunPlugin = {
  name: "side-bundled",
  setup(build) {
    const groupOf = new Map(
      Object.entries(SIDE_BUNDLES).flatMap(([group, pkgs]) => pkgs.map((pkg) => [pkg, group] as const)),
    );
    const filter = new RegExp(`^(${[...groupOf.keys()].map(escapeRegExp).join("|")})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: "side-bundled" }));
    build.onResolve({ filter: new RegExp(`^\\./${SIDE_DIR}/`) }, (args) => ({
      path: args.path,
      external: true,
    }));
    build.onLoad({ filter: /.*/, namespace: "side-bundled" }, (args) => ({
      loader: "js",
      contents: `module.exports = require(${JSON.stringify(`./${SIDE_DIR}/${groupOf.get(args.path)}.js`)})[${JSON.stringify(args.path)}];`,
    }));
  },
};

/** `vendor/<group>.js` (+ bytecode) for each side bundle: an object of its packages' modules, by name. */
async function buildSideBundles(outdir: string): Promise<void> {
  const entries = path.join(outdir, ".side-entries");
  mkdirSync(entries, { recursive: true });
  try {
    const files = Object.entries(SIDE_BUNDLES).map(([group, pkgs]) => {
      const file = path.join(entries, `${group}.cjs`);
      const fields = pkgs.map((pkg) => `${JSON.stringify(pkg)}: require(${JSON.stringify(pkg)})`);
      writeFileSync(file, `module.exports = { ${fields.join(", ")} };\n`);
      return file;
    });
    const result = await Bun.build({
      entrypoints: files,
      outdir: path.join(outdir, SIDE_DIR),
      naming: "[name].[ext]",
      target: "bun",
      format: "cjs",
      bytecode: true,
      sourcemap: "linked",
      minify: { whitespace: true, syntax: true, identifiers: false },
    });
    if (!result.success) throw new AggregateError(result.logs, "side bundles failed");
  } finally {
    rmSync(entries, { recursive: true, force: true });
  }
}

/** Builds `<outdir>/main.js` (+ `.jsc` bytecode, `.map`) and returns its path. */
export async function buildBundle(outdir = BUNDLE_DIR): Promise<string> {
  rmSync(outdir, { recursive: true, force: true });
  const result = await Bun.build({
    entrypoints: [path.join(ROOT, ENTRY)],
    outdir,
    naming: `${BUNDLE_NAME}.[ext]`,
    target: "bun",
    format: "cjs",
    bytecode: true,
    sourcemap: "linked",
    plugins: [
      sideBundled,
      pinoWithoutCallers,
      promClientPushgatewayOnUse,
      bundledMigrations,
      groupmqScriptsInside,
    ],
    external: [...RUNTIME_PACKAGES],
    minify: { whitespace: true, syntax: true, identifiers: false },
  });
  if (!result.success) throw new AggregateError(result.logs, `bundle of ${ENTRY} failed`);
  await buildSideBundles(outdir);
  return path.join(outdir, `${BUNDLE_NAME}.js`);
}

if (import.meta.main) {
  const started = performance.now();
  const file = await buildBundle(process.argv[2] ? path.resolve(process.argv[2]) : BUNDLE_DIR);
  console.log(`${path.relative(ROOT, file)} built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
