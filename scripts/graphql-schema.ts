/**
 * `bun run graphql:schema` writes src/graphql/schema.graphql from the code; `bun run graphql:schema check` (CI)
 * fails when the committed SDL drifts from the code, or when it breaks clients compared with any SDL committed
 * before (every version in the file's git history; GRAPHQL_SCHEMA_BASE names one commit instead) and the break
 * is not acknowledged in
 * src/graphql/schema-changes.json (`{ "acknowledged": [{ "change": "<inspector message>", "reason": "..." }] }`).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CriticalityLevel, diff } from "@graphql-inspector/core";
import { buildSchema, lexicographicSortSchema, printSchema } from "graphql";
import { printSdl } from "../src/graphql/schema/index.ts";

const ROOT = join(import.meta.dir, "..");
export const SDL_PATH = "src/graphql/schema.graphql";
const ACKNOWLEDGED_PATH = "src/graphql/schema-changes.json";

/** The SDL in its canonical print (sorted, formatting normalised: the committed file is formatted by Biome). */
export function canonicalSdl(sdl: string): string {
  return `${printSchema(lexicographicSortSchema(buildSchema(sdl)))}\n`;
}

/** Breaking changes from `before` to `after` (SDL texts), minus the acknowledged ones (by message). */
export async function breakingChanges(before: string, after: string, acknowledged: readonly string[] = []) {
  const changes = await diff(buildSchema(before), buildSchema(after));
  return changes
    .filter((c) => c.criticality.level === CriticalityLevel.Breaking)
    .filter((c) => !acknowledged.includes(c.message))
    .map((c) => ({ message: c.message, path: c.path }));
}

/** The committed SDL at `ref`, or undefined when the file did not exist there (or git cannot tell). */
function sdlAt(ref: string): string | undefined {
  const res = Bun.spawnSync(["git", "show", `${ref}:${SDL_PATH}`], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  return res.exitCode === 0 ? res.stdout.toString() : undefined;
}

function acknowledgedChanges(): string[] {
  const path = join(ROOT, ACKNOWLEDGED_PATH);
  if (!existsSync(path)) return [];
  const parsed = JSON.parse(readFileSync(path, "utf8")) as { acknowledged?: { change: string }[] };
  return (parsed.acknowledged ?? []).map((a) => a.change);
}

/**
 * The commits whose SDL the committed one must not break: every commit that changed the file. Comparing with the
 * previous commit alone let a break through once another commit followed it (CI checks the tip only).
 */
function historyRefs(): string[] {
  const res = Bun.spawnSync(["git", "log", "--format=%h", "--", SDL_PATH], { cwd: ROOT, stdout: "pipe" });
  return res.exitCode === 0 ? res.stdout.toString().trim().split("\n").filter(Boolean) : [];
}

/** What is wrong with the committed SDL: drift from the code, breaking changes since each of `befores`. */
export async function schemaProblems(
  committed: string,
  befores: readonly { ref: string; sdl: string }[],
  acknowledged: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  if (canonicalSdl(committed) !== printSdl()) {
    problems.push(
      `${SDL_PATH} differs from the schema the code builds: run \`bun run graphql:schema\` and commit it.`,
    );
  }
  const seen = new Set<string>();
  for (const before of befores) {
    for (const b of await breakingChanges(before.sdl, committed, acknowledged)) {
      if (seen.has(b.message)) continue; // reported against the newest version that had it
      seen.add(b.message);
      problems.push(
        `breaking change since ${before.ref}: ${b.message} (${b.path ?? "schema"}); acknowledge an intended one in ${ACKNOWLEDGED_PATH} with the reason`,
      );
    }
  }
  return problems;
}

async function check(): Promise<boolean> {
  const committed = readFileSync(join(ROOT, SDL_PATH), "utf8");
  const base = process.env.GRAPHQL_SCHEMA_BASE;
  const refs = base ? [base] : historyRefs();
  const befores = refs.flatMap((ref) => {
    const sdl = sdlAt(ref);
    return sdl === undefined ? [] : [{ ref, sdl }];
  });
  if (befores.length === 0) console.log(`no earlier ${SDL_PATH}: nothing to compare for breaking changes`);
  const problems = await schemaProblems(committed, befores, acknowledgedChanges());
  for (const p of problems) console.error(p);
  if (problems.length === 0)
    console.log(
      `${SDL_PATH} matches the code; no unacknowledged breaking change against its ${befores.length} committed version(s)`,
    );
  return problems.length === 0;
}

if (import.meta.main) {
  if (process.argv[2] === "check") process.exit((await check()) ? 0 : 1);
  writeFileSync(join(ROOT, SDL_PATH), printSdl());
  console.log(`wrote ${SDL_PATH}`);
}
