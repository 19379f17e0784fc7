/**
 * Throwaway Prometheus (Debian `prometheus` binary) for tests.
 *
 * Scrapes every second whatever targets the `targetsFile` lists (file_sd, re-read every second), keeps its
 * TSDB in a temp directory and listens on 127.0.0.1 only. Note: the first scrape happens ~5–6 s after start,
 * so start it early. Targets file format (JSON or YAML):
 *   [{ "targets": ["127.0.0.1:9100"], "labels": { "service": "api" } }]
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export interface PrometheusServer {
  url: string;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  targetsFile: string;
  /** Rule files (e.g. ops/prometheus/alerts.yml), evaluated every second. */
  ruleFiles?: string[];
  jobName?: string;
  timeoutMs?: number;
}

function configYaml(opts: StartPrometheusOptions): string {
  const rules = (opts.ruleFiles ?? []).map((f) => `  - ${JSON.stringify(f)}\n`).join("");
  return [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "  evaluation_interval: 1s",
    rules ? `rule_files:\n${rules}` : "",
    "scrape_configs:",
    `  - job_name: ${JSON.stringify(opts.jobName ?? "plantc")}`,
    "    file_sd_configs:",
    `      - files: [${JSON.stringify(opts.targetsFile)}]`,
    "        refresh_interval: 1s",
    "",
  ]
    .filter((l) => l !== "")
    .join("\n");
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusServer> {
  const binary = Bun.which("prometheus") ?? "/usr/bin/prometheus";
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  const dir = await mkdtemp(join(tmpdir(), "plantc-prom-"));
  const configFile = join(dir, "prometheus.yml");
  await writeFile(configFile, `${configYaml(opts)}\n`);

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = Bun.spawn(
      [
        binary,
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--web.enable-lifecycle",
        "--log.level=warn",
      ],
      { cwd: dir, stdin: "ignore", stdout: "ignore", stderr: "pipe" },
    );
    const errText = new Response(proc.stderr).text();
    const url = `http://127.0.0.1:${port}`;

    const stop = async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
        if (!exited) {
          proc.kill("SIGKILL");
          await proc.exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    };

    let ready = false;
    while (!ready && proc.exitCode === null && Date.now() < deadline) {
      try {
        ready = (await fetch(`${url}/-/ready`)).status === 200;
      } catch {
        // not listening yet
      }
      if (!ready) await Bun.sleep(25);
    }
    if (ready) return { url, stop };

    const exitedEarly = proc.exitCode !== null;
    if (!exitedEarly) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    const stderr = await errText;
    if (exitedEarly && attempt < 4 && /address already in use/i.test(stderr)) continue;
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `prometheus did not become ready on ${url}:\n${stderr.split("\n").slice(-20).join("\n")}`,
    );
  }
}
