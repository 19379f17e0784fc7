import { lexicographicSortSchema, printSchema } from "graphql";
import { createSchema } from "graphql-yoga";
import type { GraphQLContext, ServerContext } from "../context.ts";
import { identificationResolvers, identificationTypeDefs } from "./identifications.ts";
import { notificationResolvers, notificationTypeDefs } from "./notifications.ts";
import { relayTypeDefs } from "./relay.ts";
import { speciesResolvers, speciesTypeDefs } from "./species.ts";
import { subscriptionResolvers, subscriptionTypeDefs } from "./subscriptions.ts";
import { viewerResolvers, viewerTypeDefs } from "./viewer.ts";

/** The executable schema: one module per area (type definitions beside their resolvers). */
export function buildSchema() {
  return createSchema<GraphQLContext & ServerContext>({
    typeDefs: [
      relayTypeDefs,
      viewerTypeDefs,
      speciesTypeDefs,
      identificationTypeDefs,
      notificationTypeDefs,
      subscriptionTypeDefs,
    ],
    resolvers: [
      viewerResolvers,
      speciesResolvers,
      identificationResolvers,
      notificationResolvers,
      subscriptionResolvers,
    ],
  });
}

/** The SDL as committed in schema.graphql (sorted, so the file changes only when the schema does). */
export function printSdl(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
