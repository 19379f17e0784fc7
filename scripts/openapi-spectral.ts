/** CI step: generate the document and lint it with Spectral's `spectral:oas` ruleset; any warning fails. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateOpenApiDocument } from "./openapi-document.ts";

const dir = await mkdtemp(join(tmpdir(), "openapi-"));
const file = join(dir, "openapi.json");
await writeFile(file, JSON.stringify(await generateOpenApiDocument(), null, 2));
const proc = Bun.spawn(
  [
    "node",
    "node_modules/.bin/spectral",
    "lint",
    "--ruleset",
    ".spectral.yaml",
    "--fail-severity",
    "warn",
    file,
  ],
  { stdout: "inherit", stderr: "inherit" },
);
const code = await proc.exited;
await rm(dir, { recursive: true, force: true });
process.exit(code);
