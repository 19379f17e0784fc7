/**
 * haproxy (Debian's package) in front of the API instances, standing in for Fly's proxy: it routes only to
 * instances whose /health answers 200 (Fly's [[http_service.checks]]), and retries a request whose connection
 * to an instance failed on another one (nothing reached the instance, so any method is safe to retry).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../tests/helpers/servers/free-port.ts";

export type Haproxy = {
  url: string;
  statsUrl: string;
  pid: number;
  /** Backend server name -> haproxy's view of it (UP, DOWN, ...). */
  serverStates(): Promise<Record<string, string>>;
  stop(): Promise<void>;
};

export async function startHaproxy(backends: { name: string; port: number }[]): Promise<Haproxy> {
  const dir = await mkdtemp(join(tmpdir(), "plantc-haproxy-"));
  const port = await freePort();
  const statsPort = await freePort();
  const config = `
global
  maxconn 4000
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout check 2s
  retries 3
  option redispatch 1
  retry-on conn-failure
frontend api
  bind 127.0.0.1:${port}
  # Fly's proxy sets Fly-Client-IP to the client's address. Kept when present so local clients (tests, the
  # load generator) can stand for many clients, as the rate limits are per client.
  http-request set-header fly-client-ip %[src] unless { req.hdr(fly-client-ip) -m found }
  default_backend apis
backend apis
  balance roundrobin
  # HTTP/1.1 with a Host: Bun hands a Host-less HTTP/1.0 request a relative URL, and Hono then finds no route.
  option httpchk
  http-check send meth GET uri /health ver HTTP/1.1 hdr Host api.internal
  http-check expect status 200
  default-server inter 200ms fall 2 rise 2
${backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check`).join("\n")}
frontend stats
  bind 127.0.0.1:${statsPort}
  stats enable
  stats uri /stats
`;
  const configPath = join(dir, "haproxy.cfg");
  await writeFile(configPath, config);
  const check = Bun.spawnSync(["haproxy", "-c", "-q", "-f", configPath], { stderr: "pipe" });
  if (check.exitCode !== 0) throw new Error(`haproxy config invalid: ${check.stderr.toString()}`);
  const proc = Bun.spawn(["haproxy", "-db", "-f", configPath], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const statsUrl = `http://127.0.0.1:${statsPort}/stats`;
  const serverStates = async () => {
    const csv = await (await fetch(`${statsUrl};csv`)).text();
    const states: Record<string, string> = {};
    for (const line of csv.split("\n")) {
      const [px, sv, ...rest] = line.split(",");
      // status, and for a failing check haproxy's reason (check_status, last_chk)
      if (px === "apis" && sv && sv !== "BACKEND" && sv !== "FRONTEND")
        states[sv] = rest[15] === "UP" ? "UP" : `${rest[15]} ${rest[34] ?? ""} ${rest[54] ?? ""}`.trim();
    }
    return states;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`haproxy exited: ${await new Response(proc.stderr as ReadableStream).text()}`);
    if (await serverStates().catch(() => undefined)) break;
    if (Date.now() > deadline) throw new Error("haproxy did not start");
    await Bun.sleep(20);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    statsUrl,
    pid: proc.pid,
    serverStates,
    async stop() {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(3_000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    },
  };
}
