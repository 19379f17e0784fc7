import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context.ts";

/**
 * The client IP comes from a trusted proxy header only when configured (on Fly.io, Fly-Client-IP);
 * or, behind a known number of proxies, from X-Forwarded-For; otherwise from the socket. IPv6 clients are grouped by /64, since one subscriber usually owns a whole /64.
 */
export function clientIdentity(trustProxyHeader: string | undefined, trustProxyCount = 0) {
  // Before the handler only: returns next()'s promise instead of awaiting it (see request-id.ts).
  return createMiddleware<AppEnv>((c, next) => {
    const fromHeader = trustProxyHeader
      ? c.req.header(trustProxyHeader)?.split(",")[0]?.trim()
      : forwardedFor(c.req.header("x-forwarded-for"), trustProxyCount);
    const ip = fromHeader || socketAddress(c.env) || "unknown";
    c.set("clientIp", ip);
    c.set("clientKey", `ip:${groupIp(ip)}`);
    return next();
  });
}

/**
 * With `count` trusted proxies in front of us, each appending the address it saw to X-Forwarded-For, the client
 * is the count-th entry from the right; entries further left were written by the client and prove nothing.
 */
export function forwardedFor(header: string | undefined, count: number): string | undefined {
  if (!header || count <= 0) return undefined;
  const hops = header
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  return hops[Math.max(0, hops.length - count)];
}

function socketAddress(env: unknown): string | undefined {
  const server = (env as { server?: { requestIP?(r: Request): { address: string } | null } } | undefined)
    ?.server;
  const request = (env as { request?: Request } | undefined)?.request;
  if (!server?.requestIP || !request) return undefined;
  return server.requestIP(request)?.address;
}

export function groupIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  if (ip.startsWith("::ffff:") && ip.includes(".")) return ip.slice(7);
  const [head = "", tail = ""] = ip.split("::");
  const headParts = head ? head.split(":") : [];
  const tailParts = tail ? tail.split(":") : [];
  const missing = 8 - headParts.length - tailParts.length;
  const full = [...headParts, ...Array(Math.max(0, missing)).fill("0"), ...tailParts];
  return `${full
    .slice(0, 4)
    .map((p) => Number.parseInt(p || "0", 16).toString(16))
    .join(":")}::/64`;
}
