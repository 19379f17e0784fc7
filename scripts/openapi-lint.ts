/** CI step: generate the document and lint it with Redocly; any error fails the build. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateOpenApiDocument } from "./openapi-document.ts";

const dir = await mkdtemp(join(tmpdir(), "openapi-"));
const file = join(dir, "openapi.json");
await writeFile(file, JSON.stringify(await generateOpenApiDocument(), null, 2));
const proc = Bun.spawn(
  ["node", "node_modules/@redocly/cli/bin/cli.js", "lint", "--config", "redocly.yaml", file],
  {
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  },
);
const code = await proc.exited;
await rm(dir, { recursive: true, force: true });
process.exit(code);
