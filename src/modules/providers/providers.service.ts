import type { Deps } from "../../deps.ts";
import type { Scope } from "../../http/security.ts";
import { PROVIDER_NAMES } from "../../infra/providers/registry.ts";
import type { ProviderStatus } from "./providers.schemas.ts";

export function createProvidersService(deps: Pick<Deps, "breakers" | "providers" | "clock">) {
  return {
    async list(scopes: readonly Scope[]): Promise<ProviderStatus[]> {
      const admin = scopes.includes("admin");
      return Promise.all(
        PROVIDER_NAMES.map(async (name) => {
          const snap = deps.breakers[name].snapshot();
          // Once the cool-down is over the next call is admitted as a probe, whatever this instance last saw.
          const state = snap.state === "open" && snap.retryInMs === 0 ? "half_open" : snap.state;
          const status: ProviderStatus = {
            name,
            state,
            available: state !== "open",
            retryInSeconds: Math.ceil(snap.retryInMs / 1000),
          };
          if (admin) {
            status.details = {
              consecutiveFailures: snap.consecutiveFailures,
              windowCalls: snap.windowCalls,
              windowFailures: snap.windowFailures,
              lastChangeAt: new Date(snap.lastChangeAt).toISOString(),
              coordination: snap.coordination ?? "local",
              configured: deps.providers.isConfigured(name),
              quota: await deps.providers.quotaStatus(name),
            };
          }
          return status;
        }),
      );
    },
  };
}
