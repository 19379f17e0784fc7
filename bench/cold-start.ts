/**
 * Cold start to the first answered request (issue #17, < 200 ms for the API): from spawning the process to the
 * first 200 on `path`, polled every 2 ms. Run a few times; the median is printed beside the fastest.
 */
import { freePort } from "../tests/helpers/servers/free-port.ts";
import { BUN, ROOT } from "./lib.ts";

export async function coldStartMs(
  script: string,
  opts: { core: number; env: Record<string, string>; path: string },
): Promise<number> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${opts.path}`;
  const started = performance.now();
  const proc = Bun.spawn(["taskset", "-c", String(opts.core), BUN, script], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, PORT: String(port) },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    const deadline = started + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`${script} exited with ${proc.exitCode}`);
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.ok) return performance.now() - started;
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline) throw new Error(`${script} answered nothing within 30 s`);
      await Bun.sleep(2);
    }
  } finally {
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(5_000)]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}

/** `runs` cold starts in a row: median and fastest. */
export async function coldStarts(
  script: string,
  opts: { core: number; env: Record<string, string>; path: string; runs?: number },
): Promise<{ medianMs: number; minMs: number }> {
  const times: number[] = [];
  for (let i = 0; i < (opts.runs ?? 5); i++) times.push(await coldStartMs(script, opts));
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)]!, minMs: times[0]! };
}
