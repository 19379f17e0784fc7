/**
 * Builds the project's Dockerfile, unchanged, with Debian's buildah against the stand-in base image
 * (base-image.ts): `--isolation chroot` (no daemon), `--format docker` (the OCI format drops HEALTHCHECK),
 * `--pull=never` (no registry), `--layers` so an unchanged lockfile reuses the installed modules.
 *
 * Where outbound TLS is re-signed by a proxy, `bun install` inside the build needs the host's CA bundle: it is
 * mounted for the build only, with a build-time bunfig naming it; neither ends up in the image.
 *
 * CLI: `bun scripts/image/build.ts [tag]` prints the tag, build seconds and image size.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ensureBaseImage } from "./base-image.ts";
import { CACHE_ROOT, imageSize, run } from "./containers.ts";

const ROOT = dirname(dirname(import.meta.dir));
const HOST_CA = "/etc/ssl/certs/ca-certificates.crt";

function caMounts(): string[] {
  if (!existsSync(HOST_CA)) return [];
  mkdirSync(CACHE_ROOT, { recursive: true });
  const bunfig = join(CACHE_ROOT, "build-bunfig.toml");
  writeFileSync(bunfig, '[install]\ncafile = "/run/plantc-host-ca.crt"\n');
  return ["--volume", `${HOST_CA}:/run/plantc-host-ca.crt:ro`, "--volume", `${bunfig}:/root/.bunfig.toml:ro`];
}

export type BuiltImage = {
  tag: string;
  buildSeconds: number;
  baseSeconds: number;
  baseAction: string;
  sizeBytes: number;
};

export async function buildImage(tag: string): Promise<BuiltImage> {
  const base = await ensureBaseImage();
  const started = performance.now();
  await run(
    [
      "buildah",
      "bud",
      "--isolation",
      "chroot",
      "--format",
      "docker",
      "--pull=never",
      "--layers",
      ...caMounts(),
      "--tag",
      tag,
      ROOT,
    ],
    { cwd: ROOT },
  );
  const buildSeconds = (performance.now() - started) / 1000;
  return {
    tag,
    buildSeconds,
    baseSeconds: base.seconds,
    baseAction: base.action,
    sizeBytes: await imageSize(tag),
  };
}

if (import.meta.main) {
  const tag = process.argv[2] ?? "localhost/plant-community-api:dev";
  const built = await buildImage(tag);
  console.log(
    `image ${built.tag}: ${(built.sizeBytes / 1e6).toFixed(1)} MB (target <= 250 MB); build ${built.buildSeconds.toFixed(1)} s; base image ${built.baseAction} in ${built.baseSeconds.toFixed(1)} s`,
  );
}
