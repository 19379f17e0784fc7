/**
 * buildah/podman on this host (see ../shared/LIBRARY-FACTS.md, "Containers here"): no Docker engine, no registry,
 * runc instead of crun (crun refuses the host's hybrid cgroups), cgroupfs without systemd, ulimits no higher than
 * ours (no CAP_SYS_RESOURCE). Our own containers.conf is passed through CONTAINERS_CONF so the machine's
 * configuration is never touched.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const CACHE_ROOT = "/var/cache/plantc-containers";

function hardNofile(): number {
  const res = Bun.spawnSync(["sh", "-c", "ulimit -Hn"], { stdout: "pipe" });
  const n = Number(res.stdout.toString().trim());
  return Number.isFinite(n) && n > 0 ? Math.min(n, 1_048_576) : 1024;
}

let conf: string | undefined;
/** Writes (once per process) the containers.conf our podman/buildah calls use. */
export function containersConf(): string {
  if (conf) return conf;
  mkdirSync(CACHE_ROOT, { recursive: true });
  const nofile = hardNofile();
  const path = join(CACHE_ROOT, "containers.conf");
  writeFileSync(
    path,
    [
      "[containers]",
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=4096:4096"]`,
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      "",
    ].join("\n"),
  );
  conf = path;
  return path;
}

export function containerEnv(): Record<string, string> {
  return { ...(process.env as Record<string, string>), CONTAINERS_CONF: containersConf() };
}

export type RunResult = { code: number; stdout: string; stderr: string };

/** Runs a command to its end; throws with its stderr when it fails (unless `allowFailure`). */
export async function run(
  cmd: string[],
  opts: { cwd?: string; allowFailure?: boolean; inherit?: boolean } = {},
): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd,
    env: containerEnv(),
    stdin: "ignore",
    stdout: opts.inherit ? "inherit" : "pipe",
    stderr: opts.inherit ? "inherit" : "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    opts.inherit ? "" : new Response(proc.stdout as ReadableStream).text(),
    opts.inherit ? "" : new Response(proc.stderr as ReadableStream).text(),
    proc.exited,
  ]);
  if (code !== 0 && !opts.allowFailure) {
    throw new Error(`${cmd.join(" ")} exited with ${code}\n${stderr.slice(-4000)}${stdout.slice(-2000)}`);
  }
  return { code, stdout, stderr };
}

/** The value of a label on a local image, or undefined when there is no such image. */
export async function imageLabel(image: string, label: string): Promise<string | undefined> {
  const res = await run(["podman", "image", "inspect", "--format", `{{ index .Labels "${label}" }}`, image], {
    allowFailure: true,
  });
  if (res.code !== 0) return undefined;
  const value = res.stdout.trim();
  return value && value !== "<no value>" ? value : undefined;
}

/** Size in bytes of a local image (podman's own figure: the uncompressed layers). */
export async function imageSize(image: string): Promise<number> {
  const res = await run(["podman", "image", "inspect", "--format", "{{.Size}}", image]);
  return Number(res.stdout.trim());
}
