import { parse } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import type { Deps } from "../deps.ts";
import { buildContext, type GraphQLContext, type ServerContext } from "./context.ts";
import { maskError } from "./errors.ts";
import { maxAliasesRule, maxDepthRule } from "./limits.ts";
import { operationGuard } from "./operation-guard.ts";
import { persistedQueries } from "./persisted-queries.ts";
import { buildSchema } from "./schema/index.ts";
import { graphqlServices } from "./services.ts";

export const GRAPHQL_PATH = "/v1/graphql";

/** Depth, aliases and tokens: refused while parsing and validating, before anything runs. */
function documentLimits(deps: Pick<Deps, "config">): Plugin {
  const { maxDepth, maxAliases, maxTokens } = deps.config.graphql;
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => parse(source, { ...options, maxTokens }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(maxDepthRule(maxDepth));
      addValidationRule(maxAliasesRule(maxAliases));
    },
  };
}

/** The yoga server behind /v1/graphql, built once per app. */
export function createGraphqlServer(deps: Deps) {
  const services = graphqlServices(deps);
  const { graphql } = deps.config;
  return createYoga<ServerContext, GraphQLContext>({
    schema: buildSchema(),
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: graphql.graphiql ? { title: "Plant Community API — GraphQL" } : false,
    landingPage: false,
    // Our request log and metrics already cover every request; yoga's own logger would print to the console.
    logging: false,
    maskedErrors: { maskError: (error, message) => maskError(error, message) },
    batching: { limit: graphql.maxBatch },
    multipart: true,
    context: ({ hono, usage }) => buildContext(deps, services, { hono, usage }),
    plugins: [documentLimits(deps), persistedQueries(deps), operationGuard(deps)],
  });
}
