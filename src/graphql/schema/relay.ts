import { AppError } from "../../core/app-error.ts";

export const relayTypeDefs = /* GraphQL */ `
  "An ISO 8601 date and time with offset, e.g. 2026-12-01T09:30:00.000Z."
  scalar DateTime
  "Free-form JSON (a notification's data: its shape depends on its kind)."
  scalar JSON
  "A file part of a GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec)."
  scalar Upload

  "Relay's object identification: every entity has a global id, and Query.node fetches any of them."
  interface Node {
    id: ID!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }
`;

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

/** `first` as REST's `limit`: 1 to 100, 20 by default. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw new AppError("validation_failed", `\`first\` must be from 1 to ${MAX_PAGE}.`, {
      errors: [{ path: "first", message: `must be from 1 to ${MAX_PAGE}` }],
    });
  }
  return first;
}

/** A Relay connection from `first + 1` rows (the extra row only tells whether there is a next page). */
export function connectionOf<T>(rows: T[], first: number, cursorOf: (row: T) => string, after: unknown) {
  return pageConnection(rows.slice(0, first), rows.length > first, cursorOf, after);
}

/** A Relay connection from a service's page (its rows and whether a next page exists). */
export function pageConnection<T>(
  page: T[],
  hasNextPage: boolean,
  cursorOf: (row: T) => string,
  after: unknown,
) {
  const edges = page.map((node) => ({ node, cursor: cursorOf(node) }));
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: after !== undefined && after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
