import type { Linker } from "../../http/links.ts";
import type { ApiKey, ApiKeyResource } from "./api-keys.schemas.ts";

export const API_KEYS_PATH = "/v1/api-keys";

/** A key with itself, its collection and, when the credentials allow, the revoke action. */
export function presentApiKey<K extends ApiKey>(key: K, l: Linker): K & Pick<ApiKeyResource, "links"> {
  return {
    ...key,
    links: {
      self: l.href(`${API_KEYS_PATH}/${key.id}`),
      collection: l.href(API_KEYS_PATH),
      ...(l.can("account:write") ? { revoke: l.action(`${API_KEYS_PATH}/${key.id}`, "DELETE") } : {}),
    },
  };
}
