import type { Deps } from "../deps.ts";

export type AppVariables = {
  deps: Deps;
  requestId: string;
  /** Who is calling, for rate limits and read-after-write: a user or key id when authenticated, else the IP. */
  clientKey: string;
  clientIp: string;
};

export type AppEnv = { Variables: AppVariables };
