/** Where GraphQL is served (routes.ts mounts it without loading graphql; server.ts tells yoga). */
export const GRAPHQL_PATH = "/v1/graphql";
