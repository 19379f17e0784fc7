/**
 * `bun run sdk`: the official TypeScript SDK, generated from the live OpenAPI document by a pinned generator
 * (@hey-api/openapi-ts: it types multipart files as Blob | File and fills the security schemes from one `auth`
 * callback). Output in sdk/ (gitignored): sdk/openapi.json and sdk/client/. The mobile-journey suite
 * (tests/sdk/) is written against it only.
 *
 * The generator drives the TypeScript 5 compiler API, which TypeScript 7 (our type checker) no longer ships, so
 * it runs under Node with `typescript` resolved to the pinned `typescript5` package: a resolution root in
 * sdk/.generator whose node_modules links `typescript` there, and --preserve-symlinks so the generator's own
 * imports resolve from that root.
 */
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { generateOpenApiDocument } from "./openapi-document.ts";

const ROOT = dirname(import.meta.dir);
const OUT = join(ROOT, "sdk");
const GENERATOR = join(OUT, ".generator");

const GENERATE = `import { createClient } from "@hey-api/openapi-ts";
const [input, output] = process.argv.slice(2);
await createClient({
  input,
  output,
  logs: { level: "silent" },
  plugins: ["@hey-api/client-fetch", "@hey-api/typescript", "@hey-api/sdk"],
});
`;

export async function generateSdk(): Promise<void> {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(join(GENERATOR, "node_modules"), { recursive: true });
  const document = join(OUT, "openapi.json");
  await writeFile(document, `${JSON.stringify(await generateOpenApiDocument(), null, 2)}\n`);
  await symlink(join(ROOT, "node_modules", "typescript5"), join(GENERATOR, "node_modules", "typescript"));
  await symlink(join(ROOT, "node_modules", "@hey-api"), join(GENERATOR, "node_modules", "@hey-api"));
  await writeFile(join(GENERATOR, "generate.mjs"), GENERATE);
  const proc = Bun.spawn(
    ["node", "--preserve-symlinks", join(GENERATOR, "generate.mjs"), document, join(OUT, "client")],
    { cwd: ROOT, stdout: "inherit", stderr: "inherit", stdin: "ignore" },
  );
  const code = await proc.exited;
  await rm(GENERATOR, { recursive: true, force: true });
  if (code !== 0) throw new Error(`the SDK generator exited with ${code}`);
}

if (import.meta.main) {
  const started = Date.now();
  await generateSdk();
  process.stdout.write(`SDK generated in sdk/client (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
