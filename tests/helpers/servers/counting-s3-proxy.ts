/**
 * A loopback HTTP proxy in front of the S3 test server that counts the PUTs the server completed, per object
 * key, and can park PUTs (hold them unanswered) to freeze a client mid-flight: the test decides what happens to
 * them (forwarded after the client died, so they land in the bucket without the client knowing).
 */
export type CountingS3Proxy = {
  endpoint: string;
  /** Key -> PUTs the S3 server answered with 2xx. */
  completedPuts: Map<string, number>;
  /** Key -> the headers of its last PUT, as the client sent them. */
  putHeaders: Map<string, Headers>;
  /** PUTs held unanswered since `parkPutsAfter` was reached. */
  readonly parked: number;
  /** From now on, once `n` PUTs completed in total, further PUTs are held. */
  parkPutsAfter(n: number): void;
  /** Sends the held PUTs to the S3 server (their clients may be gone) and stops holding. */
  forwardParked(): Promise<void>;
  stop(): void;
};

export function startCountingS3Proxy(target: string, bucket: string): CountingS3Proxy {
  const completedPuts = new Map<string, number>();
  const putHeaders = new Map<string, Headers>();
  let total = 0;
  let parkAfter = Number.POSITIVE_INFINITY;
  const held: (() => Promise<void>)[] = [];
  const keyOf = (url: URL) => decodeURIComponent(url.pathname.slice(`/${bucket}/`.length));

  const forward = async (method: string, url: URL, headers: Headers, body: ArrayBuffer | undefined) => {
    const res = await fetch(`${target}${url.pathname}${url.search}`, { method, headers, body });
    if (method === "PUT" && res.ok && !url.search.includes("lifecycle")) {
      const key = keyOf(url);
      completedPuts.set(key, (completedPuts.get(key) ?? 0) + 1);
      total++;
    }
    return res;
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
      const headers = new Headers(req.headers);
      if (req.method === "PUT") putHeaders.set(keyOf(url), headers);
      if (req.method === "PUT" && total >= parkAfter) {
        // Never answered to this client: the test forwards it later, after the client is gone.
        return new Promise<Response>((resolve) => {
          held.push(async () => {
            await forward(req.method, url, headers, body);
            resolve(new Response(null, { status: 500 }));
          });
        });
      }
      const res = await forward(req.method, url, headers, body);
      return new Response(req.method === "HEAD" ? null : await res.arrayBuffer(), {
        status: res.status,
        headers: res.headers,
      });
    },
  });

  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    completedPuts,
    putHeaders,
    get parked() {
      return held.length;
    },
    parkPutsAfter(n) {
      parkAfter = n;
    },
    async forwardParked() {
      parkAfter = Number.POSITIVE_INFINITY;
      const pending = held.splice(0);
      await Promise.all(pending.map((send) => send()));
    },
    stop() {
      server.stop(true);
    },
  };
}
