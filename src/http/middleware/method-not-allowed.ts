import type { Hono } from "hono";

type Pattern = { regex: RegExp; methods: Set<string> };

/** Hono answers 404 for a known path with another method; this finds the methods the path does allow. */
export function allowedMethodsLookup(app: Hono<any, any, any>): (path: string) => string[] {
  const patterns = new Map<string, Pattern>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    let p = patterns.get(route.path);
    if (!p) {
      const source = route.path
        .split("/")
        .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      p = { regex: new RegExp(`^${source}$`), methods: new Set() };
      patterns.set(route.path, p);
    }
    p.methods.add(route.method);
    if (route.method === "GET") p.methods.add("HEAD");
  }
  const all = [...patterns.values()];
  return (path) => {
    const methods = new Set<string>();
    for (const p of all) if (p.regex.test(path)) for (const m of p.methods) methods.add(m);
    return [...methods].sort();
  };
}
