/**
 * A loopback TCP proxy a drill can cut: `down()` closes the listener and every open connection (the service is
 * gone: connections refused), `up()` listens again on the same port. Used to take S3 away from the API without
 * losing what s3rver stores.
 */
import type { Socket, TCPSocketListener } from "bun";
import { freePort } from "../../tests/helpers/servers/free-port.ts";

export type TcpProxy = { port: number; down(): void; up(): void; close(): void };

type Pair = { upstream?: Socket<Pair>; pending: Uint8Array[]; client?: Socket<Pair> };

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const open = new Set<Socket<Pair>>();
  let listener: TCPSocketListener<Pair> | undefined;

  const listen = () => {
    listener = Bun.listen<Pair>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          const pair: Pair = { pending: [], client };
          client.data = pair;
          open.add(client);
          void Bun.connect<Pair>({
            hostname: "127.0.0.1",
            port: targetPort,
            data: pair,
            socket: {
              open(upstream) {
                pair.upstream = upstream;
                open.add(upstream);
                for (const chunk of pair.pending) upstream.write(chunk);
                pair.pending = [];
              },
              data(_upstream, chunk) {
                pair.client?.write(chunk);
              },
              close(upstream) {
                open.delete(upstream);
                pair.client?.end();
              },
              error() {
                pair.client?.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.upstream) client.data.upstream.write(chunk);
          else client.data.pending.push(new Uint8Array(chunk));
        },
        close(client) {
          open.delete(client);
          client.data.upstream?.end();
        },
      },
    });
  };
  const cutAll = () => {
    listener?.stop(true);
    listener = undefined;
    for (const s of open) s.terminate();
    open.clear();
  };
  listen();
  return {
    port,
    down: cutAll,
    up: () => {
      if (!listener) listen();
    },
    close: cutAll,
  };
}
