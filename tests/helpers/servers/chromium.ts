/**
 * Debian's headless Chromium, driven over the DevTools protocol with Bun's own WebSocket (no browser download,
 * no driver library: the handful of commands a test needs fit here). Loopback only; stopped by PID.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  // Reporting API uploads go out after ~100 ms instead of being batched for a minute.
  "--short-reporting-delay",
  "--remote-debugging-address=127.0.0.1",
  "--remote-debugging-port=0",
];

type Pending = { resolve(v: unknown): void; reject(e: Error): void };
type Event = { method: string; params: Record<string, unknown>; sessionId?: string };

export type Page = {
  /** Navigates and resolves after the load event (deadline `timeoutMs`). */
  goto(url: string, timeoutMs?: number): Promise<void>;
  /** Runs an expression in the page; returns its JSON value (promises awaited). */
  evaluate<T>(expression: string): Promise<T>;
};

export type Chromium = {
  readonly pid: number;
  newPage(): Promise<Page>;
  stop(): Promise<void>;
};

export async function startChromium(
  opts: { extraArgs?: string[]; timeoutMs?: number } = {},
): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), "plantc-chromium-"));
  const proc = Bun.spawn(
    ["chromium", ...FLAGS, `--user-data-dir=${profile}`, ...(opts.extraArgs ?? []), "about:blank"],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  const stop = async () => {
    proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
    if (!exited) proc.kill("SIGKILL");
    await proc.exited;
    await rm(profile, { recursive: true, force: true });
  };
  try {
    const endpoint = await devtoolsEndpoint(proc.stderr, opts.timeoutMs ?? 20_000);
    const ws = new WebSocket(endpoint);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`could not connect to ${endpoint}`));
    });
    let nextId = 1;
    const pending = new Map<number, Pending>();
    const listeners = new Set<(e: Event) => void>();
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as Event & {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else for (const l of listeners) l(msg);
    };
    const send = <T>(method: string, params: object = {}, sessionId?: string) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, method, params, sessionId }));
      });
    const nextEvent = (method: string, sessionId: string, timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`timed out waiting for ${method}`));
        }, timeoutMs);
        const listener = (e: Event) => {
          if (e.method !== method || e.sessionId !== sessionId) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve();
        };
        listeners.add(listener);
      });

    return {
      pid: proc.pid,
      async newPage() {
        const { targetId } = await send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
        const { sessionId } = await send<{ sessionId: string }>("Target.attachToTarget", {
          targetId,
          flatten: true,
        });
        await send("Page.enable", {}, sessionId);
        return {
          async goto(url, timeoutMs = 20_000) {
            const loaded = nextEvent("Page.loadEventFired", sessionId, timeoutMs);
            const nav = await send<{ errorText?: string }>("Page.navigate", { url }, sessionId);
            if (nav.errorText) throw new Error(`navigation to ${url} failed: ${nav.errorText}`);
            await loaded;
          },
          async evaluate<T>(expression: string) {
            const r = await send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
              "Runtime.evaluate",
              { expression, awaitPromise: true, returnByValue: true },
              sessionId,
            );
            if (r.exceptionDetails) throw new Error(`evaluate failed: ${r.exceptionDetails.text}`);
            return r.result.value;
          },
        };
      },
      async stop() {
        ws.close();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Chromium prints `DevTools listening on ws://...` on stderr once it accepts connections. */
async function devtoolsEndpoint(stderr: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string> {
  const reader = stderr.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = setTimeout(() => reader.cancel().catch(() => {}), timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`chromium exited or timed out before listening:\n${seen.slice(-2_000)}`);
      seen += decoder.decode(value, { stream: true });
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (m?.[1]) {
        // Keep draining stderr so Chromium never blocks on a full pipe.
        void (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done) {}
        })();
        return m[1];
      }
    }
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * A throwaway self-signed certificate for 127.0.0.1 (openssl), and the flag that makes this Chromium trust
 * exactly it: the Reporting API only delivers to https endpoints.
 */
export async function selfSignedCert(): Promise<{ cert: string; key: string; chromiumFlag: string }> {
  const dir = await mkdtemp(join(tmpdir(), "plantc-cert-"));
  try {
    const run = (cmd: string[]) => {
      const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
      if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
      return r.stdout;
    };
    const [keyFile, certFile] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    run([
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]);
    const cert = await Bun.file(certFile).text();
    const key = await Bun.file(keyFile).text();
    const { X509Certificate, createHash } = await import("node:crypto");
    const spki = new X509Certificate(cert).publicKey.export({ type: "spki", format: "der" });
    const hash = createHash("sha256").update(spki).digest("base64");
    return { cert, key, chromiumFlag: `--ignore-certificate-errors-spki-list=${hash}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
