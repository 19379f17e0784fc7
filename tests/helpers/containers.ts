/** Containers of the project's image run with podman on the host network (loopback servers are reachable). */
import { run } from "../../scripts/image/containers.ts";

export type Container = {
  readonly name: string;
  logs(): Promise<string>;
  /** `podman healthcheck run`: the image's HEALTHCHECK, run by hand (no systemd timer schedules it here). */
  healthcheck(): Promise<boolean>;
  remove(): Promise<void>;
};

export type ContainerSpec = {
  name: string;
  image: string;
  env: Record<string, string>;
  command: string[];
  volumes?: string[];
};

function podmanArgs(spec: ContainerSpec): string[] {
  return [
    "--name",
    spec.name,
    "--network",
    "host",
    ...Object.entries(spec.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
    ...(spec.volumes ?? []).flatMap((v) => ["--volume", v]),
    spec.image,
    ...spec.command,
  ];
}

/** Runs a one-off container to its end (like Fly's release Machine); returns its exit code and output. */
export async function runToEnd(spec: ContainerSpec) {
  const res = await run(["podman", "run", "--rm", ...podmanArgs(spec)], { allowFailure: true });
  return { code: res.code, output: res.stdout + res.stderr };
}

export async function startContainer(spec: ContainerSpec): Promise<Container> {
  await run(["podman", "run", "--detach", ...podmanArgs(spec)]);
  return {
    name: spec.name,
    logs: async () => {
      const res = await run(["podman", "logs", spec.name], { allowFailure: true });
      return res.stdout + res.stderr;
    },
    healthcheck: async () =>
      (await run(["podman", "healthcheck", "run", spec.name], { allowFailure: true })).code === 0,
    remove: async () => {
      await run(["podman", "rm", "--force", "--time", "10", spec.name], { allowFailure: true });
    },
  };
}
