/**
 * `bun run drill <name>`: runs one fault drill from scripts/drills/<name>.ts against a private stack on
 * loopback. Each drill file exports `default async function drill(args: string[]): Promise<void>`, starts and
 * stops everything it needs itself, is bounded in time and prints its figures. `bun run drill` lists them.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const DRILLS_DIR = join(import.meta.dir, "drills");

function available(): string[] {
  return readdirSync(DRILLS_DIR)
    .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
    .map((f) => f.slice(0, -3))
    .sort();
}

const [name, ...args] = process.argv.slice(2);
const names = available();
if (!name || !names.includes(name)) {
  if (name) console.error(`unknown drill "${name}"`);
  console.log(`usage: bun run drill <name>\ndrills: ${names.join(", ") || "(none yet)"}`);
  process.exit(name ? 2 : 0);
}
const mod = (await import(join(DRILLS_DIR, `${name}.ts`))) as { default: (args: string[]) => Promise<void> };
await mod.default(args);
process.exit(0);
