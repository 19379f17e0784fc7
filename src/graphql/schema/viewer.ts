import { AppError } from "../../core/app-error.ts";
import type { UserRow } from "../../modules/users/users.repo.ts";
import { type GraphQLContext, requireScope } from "../context.ts";
import { parseGlobalId, toGlobalId } from "../global-id.ts";

export const viewerTypeDefs = /* GraphQL */ `
  enum Role {
    USER
    PREMIUM
    ADMIN
  }

  "The signed-in account."
  type User implements Node {
    id: ID!
    databaseId: ID!
    email: String!
    displayName: String!
    role: Role!
    emailVerified: Boolean!
    createdAt: DateTime!
    "Notifications not read yet. Needs notifications:read."
    unreadNotificationCount: Int!
  }

  type Query {
    "The caller's account. Needs account:read. (Nullable: a refusal leaves the other fields answered.)"
    me: User
    "Any entity by its global id; null when it does not exist or the caller may not see it."
    node(id: ID!): Node
  }

  type Mutation
`;

export const viewerResolvers = {
  Role: { USER: "user", PREMIUM: "premium", ADMIN: "admin" },
  Query: {
    me: async (_: unknown, _args: unknown, ctx: GraphQLContext) => {
      const auth = requireScope(ctx, "account:read");
      const user = await ctx.loaders.users.load(auth.userId);
      if (!user) throw new AppError("not_found", "No such account.");
      return user;
    },
    node: async (_: unknown, args: { id: string }, ctx: GraphQLContext) => {
      const parsed = parseGlobalId(args.id);
      if (!parsed) return null;
      switch (parsed.type) {
        case "Species":
          return ctx.loaders.species.load(parsed.id);
        case "Identification":
          requireScope(ctx, "identifications:read");
          return ctx.loaders.identifications.load(parsed.id);
        case "User": {
          const auth = requireScope(ctx, "account:read");
          return parsed.id === auth.userId ? ctx.loaders.users.load(parsed.id) : null;
        }
        default:
          return null;
      }
    },
  },
  Node: {
    __resolveType: (value: Record<string, unknown>) => {
      if ("scientific_name" in value) return "Species";
      if ("password_hash" in value) return "User";
      if ("kind" in value && "title" in value) return "Notification";
      return "Identification";
    },
  },
  User: {
    id: (u: UserRow) => toGlobalId("User", u.id),
    databaseId: (u: UserRow) => u.id,
    displayName: (u: UserRow) => u.display_name,
    emailVerified: (u: UserRow) => u.email_verified_at !== null,
    createdAt: (u: UserRow) => u.created_at.toISOString(),
    unreadNotificationCount: (u: UserRow, _: unknown, ctx: GraphQLContext) => {
      requireScope(ctx, "notifications:read");
      return ctx.loaders.unreadNotifications.load(u.id);
    },
  },
};
