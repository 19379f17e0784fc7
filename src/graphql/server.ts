import { Lexer, Source, TokenKind } from "graphql";
import { createYoga, type Plugin, useErrorHandler } from "graphql-yoga";
import type { Deps } from "../deps.ts";
import type { Services } from "../services.ts";
import { buildContext, type GraphQLContext, type ServerContext } from "./context.ts";
import { appGraphQLError, maskError, reportUnexpected } from "./errors.ts";
import { maxAliasesRule, maxDepthRule } from "./limits.ts";
import { operationGuard } from "./operation-guard.ts";
import { GRAPHQL_PATH } from "./path.ts";
import { persistedQueries } from "./persisted-queries.ts";
import { buildSchema } from "./schema/index.ts";

/** Lexer tokens of a document, counting stops past `max` (a huge document is not read to its end). */
function tokensOver(query: string, max: number): boolean {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) if (++count > max) return true;
  } catch {
    return false; // a syntax error: the parser reports it
  }
  return false;
}

/** Tokens, depth and aliases: refused before parsing or while validating, before anything runs. */
function documentLimits(deps: Pick<Deps, "config">): Plugin {
  const { maxDepth, maxAliases, maxTokens } = deps.config.graphql;
  return {
    onParams({ params }) {
      if (params.query && tokensOver(params.query, maxTokens)) {
        throw appGraphQLError("validation_failed", `The document has more than ${maxTokens} tokens.`, {
          limit: "tokens",
          max: maxTokens,
          http: { status: 400 },
        });
      }
    },
    onValidate({ addValidationRule }) {
      addValidationRule(maxDepthRule(maxDepth));
      addValidationRule(maxAliasesRule(maxAliases));
    },
  };
}

/** The yoga server behind /v1/graphql, built once per app. */
export function createGraphqlServer(deps: Deps, services: Services) {
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
    plugins: [
      documentLimits(deps),
      persistedQueries(deps),
      operationGuard(deps),
      useErrorHandler(({ errors, context, phase }) => {
        if (phase === "execution" || phase === "context")
          reportUnexpected(deps, errors, context as Partial<GraphQLContext>);
      }),
    ],
  });
}
