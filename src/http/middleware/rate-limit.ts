import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Config } from "../../config/index.ts";
import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { createLocalPrecheck } from "../../infra/rate-limit-local.ts";
import {
  createRateLimiter,
  type RateDecision,
  type RatePolicy,
  retryAfterSeconds,
} from "../../infra/rate-limiter.ts";
import type { AppEnv } from "../context.ts";
import { rateLimitHeaders } from "../rate-limit-headers.ts";
import type { Role } from "../scopes.ts";
import { resolveAuth } from "../security.ts";
import { groupIp } from "./client-identity.ts";
import { requestRoutes } from "./logging.ts";

type Choice = { policy: RatePolicy; identity: string; failClosed: boolean };

const IDENTIFY_ENDPOINT = "POST /v1/identifications";
/** Endpoints that spend another endpoint's allowance: both ways to start an identification share one. */
const SAME_ALLOWANCE: Readonly<Record<string, string>> = {
  "POST /v1/identifications/from-uploads": IDENTIFY_ENDPOINT,
};

function identifyPolicy(limits: Config["rateLimits"], role: Role | undefined): RatePolicy {
  return role === "premium" || role === "admin"
    ? { name: "identify-premium", ...limits.identifyPremium }
    : { name: "identify", ...limits.identify };
}

/**
 * The identification limit as this middleware keys it, for work that must charge it by hand: a batch counts
 * each of its photos (batches.fair-use.ts).
 */
export function identifyRateLimit(
  limits: Config["rateLimits"],
  role: Role,
  clientKey: string,
): { policy: RatePolicy; key: string } {
  return { policy: identifyPolicy(limits, role), key: `${IDENTIFY_ENDPOINT}|${clientKey}` };
}

/** The default policy object, made once per configuration rather than spread anew for every request. */
const defaultPolicies = new WeakMap<Config["rateLimits"], RatePolicy>();
function defaultPolicyOf(limits: Config["rateLimits"]): RatePolicy {
  let policy = defaultPolicies.get(limits);
  if (!policy) {
    policy = { name: "default", ...limits.default };
    defaultPolicies.set(limits, policy);
  }
  return policy;
}

/** Endpoints with their own policy; everything else gets `default` per endpoint and identity. */
export function choosePolicy(
  limits: Config["rateLimits"],
  endpoint: string,
  c: Context<AppEnv>,
  accountMail: RatePolicy = { name: "account-mail", limit: 3, windowSeconds: 3600 },
): Choice {
  // Built only for the policies keyed by IP: most requests take the default policy, keyed by clientKey.
  const ip = () => `ip:${groupIp(c.get("clientIp"))}`;
  switch (endpoint) {
    case "POST /v1/auth/login":
      // Fail closed: without the limiter, passwords could be guessed at full speed.
      return { policy: { name: "login", ...limits.loginIp }, identity: ip(), failClosed: true };
    case "POST /v1/auth/register":
      return { policy: { name: "register", ...limits.register }, identity: ip(), failClosed: false };
    // Browsers send reports without credentials: per IP, on both the current and the old path.
    case "POST /v1/security/csp-reports":
    case "POST /api/security/csp-report/":
    case "POST /api/security/csp-report":
      return { policy: { name: "csp-report", ...limits.cspReport }, identity: ip(), failClosed: false };
    // Each can make us send an e-mail: per IP here, per account in the service.
    case "POST /v1/auth/password-reset":
    case "POST /v1/auth/login-code":
    case "POST /v1/auth/verify-email/resend":
      return { policy: accountMail, identity: ip(), failClosed: false };
    case IDENTIFY_ENDPOINT:
      return {
        policy: identifyPolicy(limits, c.get("auth")?.role),
        identity: c.get("clientKey"),
        failClosed: false,
      };
    default:
      return {
        policy: defaultPolicyOf(limits),
        identity: c.get("clientKey"),
        failClosed: false,
      };
  }
}

/**
 * Only the default per-endpoint policy (catalogue reads, history, profile) may be pre-checked locally: login
 * fails closed, and the others guard e-mails, registrations and paid provider calls, where no overshoot is
 * acceptable.
 */
function locallyCheckable(choice: Choice): boolean {
  return choice.policy.name === "default" && !choice.failClosed;
}

function endpointOf(c: Context<AppEnv>): string {
  const route = requestRoutes(c).findLast((r) => r.method !== "ALL");
  return route ? `${route.method} ${route.path}` : `${c.req.method} unmatched`;
}

/**
 * Per endpoint and per identity (user or API key owner when authenticated, else the client IP, IPv6 by /64),
 * shared by every instance through Redis. Runs after authentication so the identity is known; a request with
 * bad credentials spends its IP's quota (and gets its 401 from the protected route it called).
 */
export function rateLimit(
  deps: Pick<Deps, "config" | "redis" | "logger" | "clock" | "metrics">,
  /** Counts an endpoint as another, sharing its policy and budget (legacy paths as their /v1 successors). */
  alias: (endpoint: string) => string = (endpoint) => endpoint,
) {
  const limiter = createRateLimiter(deps.redis.cache, deps.config.redis.keyPrefix, () => deps.clock.now());
  // Callers far below their limit are admitted without a Redis round trip (bounded overshoot: rate-limit-local.ts).
  const precheck = createLocalPrecheck(limiter, {
    share: deps.config.reads.rateLimitLocalShare,
    now: () => deps.clock.now(),
  });
  let lastOutageLog = 0;
  const accountMail: RatePolicy = { name: "account-mail", ...deps.config.accountSecurity.accountMail };

  return createMiddleware<AppEnv>(async (c, next) => {
    // Refused credentials count against the client IP; protected routes answer 401 (http/security.ts).
    await resolveAuth(c);
    const named = alias(endpointOf(c));
    const endpoint = SAME_ALLOWANCE[named] ?? named;
    const choice = choosePolicy(deps.config.rateLimits, endpoint, c, accountMail);
    const key = `${endpoint}|${choice.identity}`;
    let decision: RateDecision;
    try {
      decision =
        precheck.tryLocal(choice.policy, key) ??
        (await precheck.hitShared(choice.policy, key, locallyCheckable(choice)));
    } catch (err) {
      deps.metrics.rateLimitErrors.inc({ policy: choice.policy.name });
      if (deps.clock.now() - lastOutageLog > 10_000) {
        lastOutageLog = deps.clock.now();
        deps.logger.error(
          { err: String(err), policy: choice.policy.name },
          "rate limiter unavailable (redis)",
        );
      }
      if (choice.failClosed) {
        throw new AppError("service_unavailable", "Briefly unavailable; retry shortly.", {
          retryAfterSeconds: 5,
        });
      }
      return next();
    }
    const headers = rateLimitHeaders([decision]);
    if (!decision.allowed) {
      deps.metrics.rateLimited.inc({ policy: choice.policy.name });
      throw new AppError(
        "rate_limited",
        `Rate limit "${choice.policy.name}" reached; retry after the delay given.`,
        {
          rateLimits: [decision],
          retryAfterSeconds: retryAfterSeconds(decision),
        },
      );
    }
    await next();
    // Set after the handler, so error answers carry them too; a handler's own (stricter) policy is kept.
    const resHeaders = c.res.headers;
    if (!resHeaders.has("RateLimit")) for (const k in headers) resHeaders.set(k, headers[k]!);
  });
}
