/**
 * A local stand-in for the official `oven/bun:<version>-slim` image, since no registry is reachable here: a
 * minimal Debian root file system from Debian's archive (debootstrap --variant=minbase, trimmed the way
 * debian:*-slim is) plus the real `bun` binary from the npm package @oven/bun-linux-x64-baseline, with the
 * official image's user (bun 1000:1000), paths (/usr/local/bin/bun, bunx), entrypoint and WORKDIR. Tagged with
 * the name the Dockerfile's FROM uses, so the Dockerfile builds unchanged with `--pull=never`.
 *
 * Cached by its inputs (suite, mirror, Bun version, this recipe): the image carries the key as a label, and the
 * root file system is kept as a tarball under /var/cache, so a second run costs nothing and a wiped image
 * store costs one `podman import`. Run under `flock` (see ensureBaseImage) so parallel runs build it once.
 *
 * CLI: `bun scripts/image/base-image.ts` prints the image name and what it did.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { appendFile, chmod, mkdir, readdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CACHE_ROOT, imageLabel, run } from "./containers.ts";

const ROOT = dirname(dirname(import.meta.dir));
const SUITE = "bookworm";
const MIRROR = "http://deb.debian.org/debian";
const KEY_LABEL = "plantc.base-key";
// What debian:*-slim leaves out: documentation, manuals, translations, package lists and caches.
const TRIMMED = [
  "usr/share/doc",
  "usr/share/man",
  "usr/share/info",
  "usr/share/locale",
  "var/cache/apt",
  "var/lib/apt/lists",
  "var/log",
];
// The official image's configuration.
const IMAGE_CHANGES = [
  "ENV BUN_RUNTIME_TRANSPILER_CACHE_PATH=0",
  "ENV BUN_INSTALL_BIN=/usr/local/bin",
  "WORKDIR /home/bun/app",
  'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
  'CMD ["/usr/local/bin/bun"]',
];

/** The Bun version the Dockerfile builds on (its `ARG BUN_VERSION=` default). */
export function dockerfileBunVersion(): string {
  const m = /^ARG BUN_VERSION=(\S+)$/m.exec(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  if (!m?.[1]) throw new Error("Dockerfile has no `ARG BUN_VERSION=<version>` line");
  return m[1];
}

export function baseImageName(bunVersion = dockerfileBunVersion()): string {
  return `docker.io/oven/bun:${bunVersion}-slim`;
}

/**
 * Bump when the steps below change in a way the constants do not show (the key is the cache's only check).
 * Hashing this file instead would rebuild the base (minutes) on every reformat.
 */
const RECIPE_REVISION = 1;

function baseKey(bunVersion: string): string {
  const hash = new Bun.CryptoHasher("sha256");
  hash.update(
    JSON.stringify({
      SUITE,
      MIRROR,
      bunVersion,
      arch: process.arch,
      RECIPE_REVISION,
      TRIMMED,
      ENTRYPOINT,
      IMAGE_CHANGES,
    }),
  );
  return hash.digest("hex").slice(0, 16);
}

// The official image's entrypoint: run `bun` unless the first argument is a command.
const ENTRYPOINT = `#!/bin/sh
set -e
if [ "\${1#-}" != "\${1}" ] || [ -z "$(command -v "\${1}")" ]; then
  set -- bun "$@"
fi
exec "$@"
`;

async function fetchBunBinary(bunVersion: string, dir: string): Promise<string> {
  const bin = join(dir, "bun");
  if (existsSync(bin)) return bin;
  await mkdir(dir, { recursive: true });
  // The `bun` npm package is a placeholder its postinstall replaces; the platform package holds the binary.
  const pkg = `@oven/bun-linux-x64-baseline@${bunVersion}`;
  const packed = await run(["npm", "pack", "--silent", pkg, "--pack-destination", dir]);
  const tarball = join(dir, packed.stdout.trim().split("\n").pop() ?? "");
  await run(["tar", "-xzf", tarball, "-C", dir, "package/bin/bun"]);
  await rename(join(dir, "package/bin/bun"), bin);
  await rm(join(dir, "package"), { recursive: true, force: true });
  await rm(tarball, { force: true });
  await chmod(bin, 0o755);
  return bin;
}

async function makeRootfsTarball(bunVersion: string, dir: string): Promise<string> {
  const tarball = join(dir, "rootfs.tar");
  if (existsSync(tarball)) return tarball;
  const bun = await fetchBunBinary(bunVersion, join(dir, "bun"));
  const rootfs = join(dir, "rootfs");
  await rm(rootfs, { recursive: true, force: true });
  // Downloaded packages are kept beside the cache: a changed recipe rebuilds without the archive round trips.
  const debs = join(CACHE_ROOT, "debs");
  await mkdir(debs, { recursive: true });
  await run(["debootstrap", "--variant=minbase", `--cache-dir=${debs}`, SUITE, rootfs, MIRROR]);

  // Trim what debian:*-slim leaves out: documentation, manuals, translations, package lists and caches.
  for (const sub of TRIMMED) {
    const path = join(rootfs, sub);
    for (const entry of await readdir(path).catch(() => []))
      await rm(join(path, entry), { recursive: true, force: true });
  }

  await run(["cp", bun, join(rootfs, "usr/local/bin/bun")]);
  await symlink("/usr/local/bin/bun", join(rootfs, "usr/local/bin/bunx"));
  await writeFile(join(rootfs, "usr/local/bin/docker-entrypoint.sh"), ENTRYPOINT, { mode: 0o755 });
  await appendFile(join(rootfs, "etc/group"), "bun:x:1000:\n");
  await appendFile(join(rootfs, "etc/passwd"), "bun:x:1000:1000::/home/bun:/bin/sh\n");
  await appendFile(join(rootfs, "etc/shadow"), "bun:!:20000:0:99999:7:::\n");
  await mkdir(join(rootfs, "home/bun/app"), { recursive: true });
  await run(["chown", "-R", "1000:1000", join(rootfs, "home/bun")]);

  const partial = `${tarball}.partial`;
  await run(["tar", "--numeric-owner", "-C", rootfs, "-cf", partial, "."]);
  await rename(partial, tarball);
  await rm(rootfs, { recursive: true, force: true });
  return tarball;
}

export type BaseImageResult = { image: string; action: "cached" | "imported" | "built"; seconds: number };

/** Makes sure the stand-in base image exists; call it under a lock (the CLI below is run with flock). */
export async function buildBaseImage(bunVersion = dockerfileBunVersion()): Promise<BaseImageResult> {
  const started = performance.now();
  const image = baseImageName(bunVersion);
  const key = baseKey(bunVersion);
  const seconds = () => (performance.now() - started) / 1000;
  if ((await imageLabel(image, KEY_LABEL)) === key) return { image, action: "cached", seconds: seconds() };

  const dir = join(CACHE_ROOT, `bun-base-${key}`);
  // Root file systems of earlier recipes are never used again: keep the cache to one.
  for (const entry of await readdir(CACHE_ROOT)) {
    if (entry.startsWith("bun-base-") && entry !== `bun-base-${key}`)
      await rm(join(CACHE_ROOT, entry), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  const hadTarball = existsSync(join(dir, "rootfs.tar"));
  const tarball = await makeRootfsTarball(bunVersion, dir);
  const changes = [...IMAGE_CHANGES, `LABEL ${KEY_LABEL}=${key}`];
  await run(["podman", "import", ...changes.flatMap((c) => ["--change", c]), tarball, image]);
  const check = await run(["podman", "run", "--rm", "--network", "none", image, "bun", "--version"]);
  if (check.stdout.trim() !== bunVersion) {
    throw new Error(`the base image runs bun ${check.stdout.trim()}, expected ${bunVersion}`);
  }
  return { image, action: hadTarball ? "imported" : "built", seconds: seconds() };
}

/** The base image, built at most once at a time on this machine (flock on a file in the cache). */
export async function ensureBaseImage(): Promise<BaseImageResult> {
  mkdirSync(CACHE_ROOT, { recursive: true });
  const res = await run([
    "flock",
    "-w",
    "900",
    join(CACHE_ROOT, "base.lock"),
    process.execPath,
    import.meta.path,
  ]);
  return JSON.parse(res.stdout.trim().split("\n").pop() ?? "") as BaseImageResult;
}

if (import.meta.main) {
  const result = await buildBaseImage();
  console.log(JSON.stringify(result));
}
