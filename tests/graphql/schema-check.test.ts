import { describe, expect, test } from "bun:test";
import { breakingChanges, canonicalSdl, SDL_PATH, schemaProblems } from "../../scripts/graphql-schema.ts";
import { printSdl } from "../../src/graphql/schema/index.ts";

const committed = await Bun.file(SDL_PATH).text();

describe("the committed SDL and the breaking-change check (CI: bun run graphql:schema check)", () => {
  test("the committed schema.graphql is the schema the code builds", () => {
    expect(canonicalSdl(committed)).toBe(printSdl());
  });

  test("removing a field or making an argument required is breaking", async () => {
    const removed = committed.replace(/\n\s*modelVersion: String\n/, "\n");
    expect(removed).not.toBe(committed);
    const breaking = await breakingChanges(committed, removed);
    expect(breaking.map((b) => b.path)).toContain("Identification.modelVersion");

    const required = committed.replace("speciesList(after: String,", "speciesList(after: String!,");
    expect(required).not.toBe(committed);
    expect((await breakingChanges(committed, required)).length).toBeGreaterThan(0);
  });

  test("adding a field is not breaking, and an acknowledged break passes", async () => {
    const added = committed.replace("type PageInfo {", "type PageInfo {\n  totalCount: Int\n");
    expect(await breakingChanges(committed, added)).toEqual([]);
    const removed = committed.replace(/\n\s*modelVersion: String\n/, "\n");
    const [change] = await breakingChanges(committed, removed);
    expect(await breakingChanges(committed, removed, [change!.message])).toEqual([]);
  });

  test("the check reports drift and unacknowledged breaks, and passes on the committed file", async () => {
    const drifted = committed.replace("type PageInfo {", "type PageInfo {\n  totalCount: Int\n");
    expect((await schemaProblems(drifted, [], []))[0]).toContain("differs from the schema the code builds");
    const older = committed.replace("type PageInfo {", "type PageInfo {\n  totalCount: Int\n");
    const problems = await schemaProblems(committed, [{ ref: "base", sdl: older }], []);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("PageInfo.totalCount");
    expect(await schemaProblems(committed, [{ ref: "base", sdl: committed }], [])).toEqual([]);

    // A break made two versions ago is still reported when a later version did not undo it (the tip alone is
    // checked in CI), once, against the newest version that had the field.
    const history = [
      { ref: "previous", sdl: committed },
      { ref: "two-ago", sdl: older },
      { ref: "three-ago", sdl: older },
    ];
    const fromHistory = await schemaProblems(committed, history, []);
    expect(fromHistory).toHaveLength(1);
    expect(fromHistory[0]).toContain("breaking change since two-ago");

    const cli = await Bun.$`./node_modules/.bin/bun run scripts/graphql-schema.ts check`
      .env({ ...process.env, GRAPHQL_SCHEMA_BASE: "HEAD" })
      .nothrow()
      .quiet();
    expect(cli.exitCode).toBe(0);
    // Without a base: every committed version of the file in this repository's history.
    const whole = await Bun.$`./node_modules/.bin/bun run scripts/graphql-schema.ts check`.nothrow().quiet();
    expect(whole.exitCode).toBe(0);
    expect(whole.stdout.toString()).toMatch(/against its [1-9]\d* committed version/);
  });
});
