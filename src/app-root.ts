import { existsSync } from "node:fs";
import path from "node:path";

/**
 * The application's root directory (the one holding package.json), found from this module's own location, so
 * the same code finds `migrations/` and `dist/docs/` whether it runs from its sources (src/) or from the
 * production bundle (dist/app/, see scripts/build.ts), where `import.meta.dir` is the bundle's directory.
 */
function findAppRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const APP_ROOT = findAppRoot(import.meta.dir);
