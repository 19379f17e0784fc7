import type { Linker } from "../../http/links.ts";
import type { User } from "./users.schemas.ts";

export const ME_PATH = "/v1/me";
export const ME_EXPORT_PATH = "/v1/me/export";

/** The signed-in account with where to go from it and what the credentials allow. */
export function presentMe(user: User, l: Linker): User {
  return {
    ...user,
    links: {
      self: l.href(ME_PATH),
      identifications: l.href("/v1/identifications"),
      notifications: l.href("/v1/notifications"),
      apiKeys: l.href("/v1/api-keys"),
      ...(l.can("account:write") ? { update: l.action(ME_PATH, "PATCH") } : {}),
      ...(l.can("account:read") && l.can("identifications:read")
        ? { export: l.action(ME_EXPORT_PATH, "POST") }
        : {}),
      ...(l.can("account:write") ? { delete: l.action(ME_PATH, "DELETE") } : {}),
    },
  };
}
