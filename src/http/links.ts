import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "./context.ts";
import { requestOrigin } from "./middleware/absolute-urls.ts";
import type { Scope } from "./scopes.ts";

/**
 * Links between resources (HATEOAS): every resource's `links` names itself, the resources it relates to and the
 * actions this caller may take on it. Navigation links are plain absolute URLs (GET them); an action carries its
 * method too, and is present only when the caller's credentials allow it. Built in the REST layer (presenters in
 * each module's `*.links.ts`): services stay transport-free and know no origin.
 */
export const LinkSchema = z.string().url().openapi("Link", {
  description: "An absolute URL (PUBLIC_BASE_URL, else the origin the request came to); GET it.",
  example: "https://api.plant.community/v1/species/0190f5a2-7b1c-7d3e-8f00-1234567890ab",
});

export const ACTION_METHODS = ["POST", "PATCH", "DELETE"] as const;

export const ActionLinkSchema = z
  .object({
    href: LinkSchema,
    method: z.enum(ACTION_METHODS).openapi({ example: "DELETE" }),
  })
  .openapi("ActionLink", {
    description: "Something the caller may do: send `method` to `href`. Absent when the caller may not.",
  });

export type ActionLink = z.infer<typeof ActionLinkSchema>;

/** What a presenter needs to write links for one request: the origin and the caller's scopes. */
export type Linker = {
  readonly origin: string;
  /** A path (`/v1/...`) made absolute; an absolute URL (a CDN's) is returned as it is. */
  href(path: string): string;
  action(path: string, method: (typeof ACTION_METHODS)[number]): ActionLink;
  /** True when the caller's credentials carry the scope (false for anonymous callers). */
  can(scope: Scope): boolean;
};

export function linkerFor(c: Context<AppEnv>): Linker {
  const { config } = c.get("deps");
  const origin = requestOrigin(c, {
    publicBaseUrl: config.publicBaseUrl,
    trustProxy: Boolean(config.http.trustProxyHeader) || config.http.trustProxyCount > 0,
  });
  const href = (path: string) => (path.startsWith("/") ? `${origin}${path}` : path);
  const scopes = c.get("auth")?.scopes ?? [];
  return {
    origin,
    href,
    action: (path, method) => ({ href: href(path), method }),
    can: (scope) => scopes.includes(scope),
  };
}

/** Adds `value` under `key` only when `when` holds (an action the caller may not take is left out). */
export function when<K extends string, V>(cond: boolean, key: K, value: () => V): Partial<Record<K, V>> {
  return cond ? ({ [key]: value() } as Record<K, V>) : {};
}
