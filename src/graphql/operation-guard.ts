import { type GraphQLError, getOperationAST } from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";
import type { Deps } from "../deps.ts";
import { createRateLimiter, retryAfterSeconds } from "../infra/rate-limiter.ts";
import type { GraphQLContext, ServerContext } from "./context.ts";
import { operationCost } from "./cost.ts";
import { appGraphQLError } from "./errors.ts";
import { graphqlMetrics, operationLabeler } from "./metrics.ts";

type Args = {
  schema: Parameters<typeof operationCost>[0];
  document: Parameters<typeof operationCost>[1];
  operationName?: string | null;
  variableValues?: Record<string, unknown> | null;
  contextValue: GraphQLContext;
};

/**
 * Before an operation runs: its cost against the per-operation budget, then against the caller's budget of
 * cost points per window (shared by every instance, in Redis); after it: metrics by operation name.
 */
export function operationGuard(
  deps: Pick<Deps, "config" | "redis" | "clock" | "metrics" | "logger">,
): Plugin {
  const { maxCost, rateLimit } = deps.config.graphql;
  const policy = { name: "graphql", ...rateLimit };
  const limiter = createRateLimiter(deps.redis.cache, deps.config.redis.keyPrefix, () => deps.clock.now());
  const metrics = graphqlMetrics(deps.metrics.registry);
  const label = operationLabeler();

  /** An error to answer instead of running the operation, or undefined to run it. */
  async function admit(args: Args): Promise<GraphQLError | undefined> {
    const ctx = args.contextValue;
    const cost = operationCost(args.schema, args.document, args.operationName, args.variableValues ?? {});
    ctx.usage.cost = cost;
    metrics.cost.observe(cost);
    if (cost > maxCost) {
      return appGraphQLError(
        "validation_failed",
        `The operation costs ${cost} points; at most ${maxCost} are allowed per operation (ask for fewer items).`,
        { limit: "cost", max: maxCost, cost },
      );
    }
    try {
      const decision = await limiter.hit(policy, ctx.clientKey, cost);
      if (!decision.allowed) {
        deps.metrics.rateLimited.inc({ policy: policy.name });
        const retryAfter = retryAfterSeconds(decision);
        return appGraphQLError(
          "rate_limited",
          `Rate limit "graphql" reached (${rateLimit.limit} cost points per ${rateLimit.windowSeconds} s); retry after the delay given.`,
          { retryAfter, cost, http: { status: 429, headers: { "Retry-After": String(retryAfter) } } },
        );
      }
    } catch (err) {
      // As REST's default policy: without Redis the limit is not enforced (fail open), and it is counted.
      deps.metrics.rateLimitErrors.inc({ policy: policy.name });
      deps.logger.warn({ err: String(err) }, "graphql rate limiter unavailable (redis)");
    }
    return undefined;
  }

  const countErrors = (errors: readonly GraphQLError[] | undefined) => {
    for (const e of errors ?? [])
      metrics.errors.inc({ code: String(e.extensions?.code ?? "internal_error") });
  };

  const observe = async (args: Args, kind: "query" | "mutation" | "subscription") => {
    const operation = label(args.operationName ?? getOperationAST(args.document)?.name?.value);
    args.contextValue.usage.operationName = operation;
    metrics.operations.inc({ operation, type: kind });
    const refusal = await admit(args);
    return { operation, refusal, started: performance.now() };
  };

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const kind = getOperationAST(args.document, args.operationName)?.operation ?? "query";
      const { operation, refusal, started } = await observe(args as unknown as Args, kind);
      if (refusal) {
        setResultAndStopExecution({ errors: [refusal] });
        return;
      }
      return {
        onExecuteDone() {
          metrics.duration.observe({ operation, type: kind }, (performance.now() - started) / 1000);
        },
      };
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const { operation, refusal, started } = await observe(args as unknown as Args, "subscription");
      if (refusal) {
        setResultAndStopExecution({ errors: [refusal] });
        return;
      }
      return {
        onSubscribeResult() {
          metrics.duration.observe({ operation, type: "subscription" }, (performance.now() - started) / 1000);
        },
      };
    },
    onResultProcess({ result, serverContext }) {
      // Every answer, including documents refused before execution (syntax, validation, limits).
      const results = Array.isArray(result) ? result : [result];
      for (const r of results) {
        if (isAsyncIterable(r) || !r.errors?.length) continue;
        (serverContext as unknown as ServerContext).usage.errored = true;
        countErrors(r.errors as GraphQLError[]);
      }
    },
  };
}
