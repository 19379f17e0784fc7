/** A private redis-server on a free loopback port (no persistence), stopped by its PID. */
import { freePort } from "../../tests/helpers/servers/free-port.ts";

export type RedisServer = { url: string; pid: number; stop(): Promise<void> };

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const proc = Bun.spawn(
    ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdin: "ignore", stdout: "ignore", stderr: "inherit" },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ping = Bun.spawnSync(["redis-cli", "-p", String(port), "ping"], {
      stdout: "pipe",
      stderr: "ignore",
    });
    if (ping.stdout.toString().trim() === "PONG") break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`redis-server on port ${port} did not start`);
    }
    await Bun.sleep(20);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(3_000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}
