/**
 * prom-client's own nodejs_active_{handles,requests,resources}_total are gauges named like counters, which
 * `promtool check metrics` rejects. metrics-process.ts drops them (they are always 0 under Bun anyway); they are
 * excluded here by name as well, so the check judges only our own families even if they come back.
 */
export const PROM_CLIENT_NAMES_PROMTOOL_REJECTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

export function withoutPromClientRejects(exposition: string): string {
  return exposition
    .split("\n")
    .filter(
      (line) =>
        !PROM_CLIENT_NAMES_PROMTOOL_REJECTS.some((name) =>
          new RegExp(`^(# (HELP|TYPE) )?${name}[ {]`).test(line),
        ),
    )
    .join("\n");
}

/** Runs `promtool check metrics` on an exposition; `problems` are its complaint lines. */
export async function promtoolCheckMetrics(
  exposition: string,
): Promise<{ exitCode: number; problems: string[] }> {
  const proc = Bun.spawn(["promtool", "check", "metrics"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(withoutPromClientRejects(exposition));
  await proc.stdin.end();
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const problems = `${stdout}\n${stderr}`.split("\n").filter((l) => l.trim() !== "");
  return { exitCode, problems };
}
