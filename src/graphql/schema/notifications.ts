import { AppError } from "../../core/app-error.ts";
import { encodeCursor } from "../../core/cursor.ts";
import type { Notification as NotificationDto } from "../../modules/notifications/notifications.schemas.ts";
import { type GraphQLContext, requireScope } from "../context.ts";
import { fromGlobalId, toGlobalId } from "../global-id.ts";
import type { NotificationRow } from "../graphql.repo.ts";
import { pageConnection, pageSize } from "./relay.ts";

export const notificationTypeDefs = /* GraphQL */ `
  type Notification implements Node {
    id: ID!
    databaseId: ID!
    "identification.completed, identification.failed, batch.completed, batch.failed, export.ready; more may come."
    kind: String!
    title: String!
    body: String!
    "What the notification is about; its shape depends on kind (as in the REST API)."
    data: JSON!
    "The identification it is about (identification.* kinds), when it still exists."
    identification: Identification
    readAt: DateTime
    createdAt: DateTime!
  }

  type NotificationEdge {
    cursor: String!
    node: Notification!
  }

  type NotificationConnection {
    edges: [NotificationEdge!]!
    pageInfo: PageInfo!
  }

  type MarkNotificationsReadPayload {
    notifications: [Notification!]!
  }

  extend type Query {
    "The caller's notifications, newest first; unread: true for the unread ones only. Needs notifications:read."
    notifications(first: Int = 20, after: String, unread: Boolean): NotificationConnection
  }

  extend type Mutation {
    "Marks these notifications read (the first read time stays); at most 100. Needs notifications:read."
    markNotificationsRead(ids: [ID!]!): MarkNotificationsReadPayload!
  }
`;

type NotificationView = Pick<NotificationDto, "id" | "title" | "body" | "readAt" | "createdAt"> & {
  kind: string;
  data: Record<string, unknown>;
};

export function notificationView(row: NotificationRow): NotificationView {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    data: row.data as Record<string, unknown>,
    readAt: row.read_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

const MAX_MARKED = 100;

function readerOf(ctx: GraphQLContext) {
  const auth = requireScope(ctx, "notifications:read");
  return { userId: auth.userId, clientKey: ctx.clientKey };
}

export const notificationResolvers = {
  Query: {
    notifications: async (
      _: unknown,
      args: { first?: number | null; after?: string | null; unread?: boolean | null },
      ctx: GraphQLContext,
    ) => {
      const reader = readerOf(ctx);
      const first = pageSize(args.first);
      const page = await ctx.services.notifications.list(reader, {
        limit: first,
        cursor: args.after ?? undefined,
        unread: args.unread ?? undefined,
      });
      const cursorOf = (n: NotificationDto) => encodeCursor({ i: n.id });
      return pageConnection(page.data, page.nextCursor !== null, cursorOf, args.after);
    },
  },
  Mutation: {
    markNotificationsRead: async (_: unknown, args: { ids: string[] }, ctx: GraphQLContext) => {
      const reader = readerOf(ctx);
      if (args.ids.length > MAX_MARKED) {
        throw new AppError("validation_failed", `At most ${MAX_MARKED} ids at once.`, {
          errors: [{ path: "ids", message: `at most ${MAX_MARKED} ids` }],
        });
      }
      const ids = [...new Set(args.ids.map((id) => fromGlobalId("Notification", id, "ids")))];
      const notifications = [];
      for (const id of ids) notifications.push(await ctx.services.notifications.markRead(reader, id));
      return { notifications };
    },
  },
  Notification: {
    id: (n: NotificationView) => toGlobalId("Notification", n.id),
    databaseId: (n: NotificationView) => n.id,
    identification: async (n: NotificationView, _: unknown, ctx: GraphQLContext) => {
      const id = (n.data as { identificationId?: unknown }).identificationId;
      if (typeof id !== "string" || !ctx.auth?.scopes.includes("identifications:read")) return null;
      return ctx.loaders.identifications.load(id);
    },
  },
};
