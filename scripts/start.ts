/**
 * `npm start`: the whole stack on one machine. Creates the database when missing, then runs the API
 * (which applies migrations and seed data) and stops everything together on Ctrl-C.
 */
import { ensureDatabase } from "./ensure-database.ts";

const env: Record<string, string> = { ...(process.env as Record<string, string>) };
env.DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/plant_community";
env.PORT ??= "3000";

if (await ensureDatabase(env.DATABASE_URL)) console.log(`created database ${new URL(env.DATABASE_URL).pathname.slice(1)}`);

type Child = { name: string; proc: ReturnType<typeof Bun.spawn> };
const children: Child[] = [];

function start(name: string, args: string[], extraEnv: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, ...args], {
    env: { ...env, ...extraEnv },
    stdout: "inherit",
    stderr: "inherit",
  });
  children.push({ name, proc });
  proc.exited.then((code) => {
    if (!stopping) {
      console.error(`${name} exited with code ${code}; stopping the stack`);
      void stop(code || 1);
    }
  });
  return proc;
}

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.proc.kill("SIGTERM");
  await Promise.race([Promise.all(children.map((c) => c.proc.exited)), Bun.sleep(15_000)]);
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

console.log(`Plant Community API starting: docs at http://localhost:${env.PORT}/v1/docs`);
start("api", ["src/main.ts"]);
