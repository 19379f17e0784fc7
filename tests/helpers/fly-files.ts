/** fly.toml and the README's `fly secrets set` list, read the way an operator follows them. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const ROOT = dirname(dirname(import.meta.dir));

export type FlyCheck = {
  type?: string;
  port?: number;
  path?: string;
  method?: string;
  interval?: string;
  timeout?: string;
  grace_period?: string;
  processes?: string[];
};

export type FlyToml = {
  app: string;
  kill_timeout: string;
  kill_signal: string;
  deploy: { release_command: string; strategy?: string };
  env: Record<string, string>;
  processes: Record<string, string>;
  http_service: {
    processes: string[];
    internal_port: number;
    auto_stop_machines: string | boolean;
    auto_start_machines?: boolean;
    min_machines_running?: number;
    checks: FlyCheck[];
  };
  metrics: { port: number; path: string; processes: string[] }[];
  checks: Record<string, FlyCheck>;
  vm: { processes: string[]; size: string; memory: string }[];
};

export function readFlyToml(): FlyToml {
  return Bun.TOML.parse(readFileSync(join(ROOT, "fly.toml"), "utf8")) as FlyToml;
}

/** The variable names of the README's `fly secrets set` command (the documented secrets list). */
export function documentedSecrets(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /```sh\n(fly secrets set[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("README.md has no ```sh block starting with `fly secrets set`");
  return [...block.matchAll(/\b([A-Z][A-Z0-9_]+)=/g)].map((m) => m[1] as string);
}

/** `env A=1 B=2 bun workers/main.ts` -> the assignments and the command that runs. */
export function splitProcessCommand(command: string): { env: Record<string, string>; argv: string[] } {
  const words = command.trim().split(/\s+/);
  const env: Record<string, string> = {};
  if (words[0] === "env") {
    words.shift();
    while (words[0]?.includes("=")) {
      const [name, ...value] = (words.shift() as string).split("=");
      env[name as string] = value.join("=");
    }
  }
  return { env, argv: words };
}

/** "240s", "5m" -> milliseconds. */
export function durationMs(value: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as "ms" | "s" | "m"];
}

/** Stand-in values of the right shape for each secret: the test proves names, not credentials. */
export function dummySecret(name: string): string {
  const urls: Record<string, string> = {
    DATABASE_URL: "postgres://app:dummy@plant-db.flycast:5432/plant_community",
    DATABASE_REPLICA_URL: "postgres://app:dummy@plant-db-replica.flycast:5432/plant_community",
    REDIS_URL: "redis://default:dummy@plant-redis.upstash.io:6379",
    SMTP_URL: "smtp://apikey:dummy@smtp.example.com:587",
  };
  return urls[name] ?? `dummy-${name.toLowerCase()}-0123456789abcdef0123456789`;
}
