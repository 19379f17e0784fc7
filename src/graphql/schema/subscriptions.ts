import { Repeater } from "graphql-yoga";
import { AppError } from "../../core/app-error.ts";
import type { Identification } from "../../modules/identifications/identifications.schemas.ts";
import { type GraphQLContext, requireScope } from "../context.ts";
import { fromGlobalId } from "../global-id.ts";
import { findNotificationByKey } from "../graphql.repo.ts";
import { currentIdentification } from "../identification-view.ts";
import { identificationChannel, type LiveEvent, notificationsChannel } from "../live-events.ts";
import { notificationView } from "./notifications.ts";

export const subscriptionTypeDefs = /* GraphQL */ `
  type Subscription {
    """
    The identification now, then again after each change (made by any worker or instance), until it is
    completed or failed (or deleted). Over SSE. Needs identifications:read.
    """
    identificationUpdated(id: ID!): Identification!
    "Each new notification of the caller, as it is created. Over SSE. Needs notifications:read."
    notificationAdded: Notification!
  }
`;

/** Thrown by a step to end the stream normally (the last value was sent). */
const END = new Error("end of stream");

/**
 * Follows a Redis channel: subscribed (acknowledged) before `first` reads anything, so no change can fall
 * between the first read and the subscription; each event is turned into a value by `onEvent`, in order.
 */
function follow<T>(
  ctx: GraphQLContext,
  channel: string,
  first: (push: (value: T) => Promise<boolean>) => Promise<void>,
  onEvent: (event: LiveEvent, push: (value: T) => Promise<boolean>) => Promise<void>,
): Repeater<T> {
  return new Repeater<T>(async (push, stop) => {
    let stopped = false;
    void stop.then(() => {
      stopped = true;
    });
    // false once the stream is over (the client left or the value was the last one).
    const emit = async (value: T) => {
      if (stopped) return false;
      await push(value);
      return !stopped;
    };
    let chain: Promise<void> = Promise.resolve();
    const run = (step: () => Promise<void>) => {
      chain = chain
        .then(() => (stopped ? undefined : step()))
        .catch((err: unknown) => (err === END ? stop() : stop(err)));
    };
    const unsubscribe = await ctx.deps.liveEvents.subscribe(channel, (event) =>
      run(() => onEvent(event, emit)),
    );
    run(() => first(emit));
    await stop;
    await unsubscribe();
  });
}

const TERMINAL = new Set(["completed", "failed"]);

export const subscriptionResolvers = {
  Subscription: {
    identificationUpdated: {
      subscribe: (_: unknown, args: { id: string }, ctx: GraphQLContext) => {
        const { userId } = requireScope(ctx, "identifications:read");
        const id = fromGlobalId("Identification", args.id);
        const prefix = ctx.deps.config.redis.keyPrefix;
        let finished = false;
        return follow<{ identificationUpdated: Identification }>(
          ctx,
          identificationChannel(prefix, id),
          async (push) => {
            const now = await currentIdentification(ctx.deps, userId, id);
            if (!now) throw new AppError("not_found", "No identification with this id.");
            await push({ identificationUpdated: now });
            if (TERMINAL.has(now.status)) throw END;
          },
          async (_event, push) => {
            if (finished) return;
            const now = await currentIdentification(ctx.deps, userId, id);
            if (!now) throw END; // deleted meanwhile
            await push({ identificationUpdated: now });
            if (TERMINAL.has(now.status)) {
              finished = true;
              throw END;
            }
          },
        );
      },
    },
    notificationAdded: {
      subscribe: (_: unknown, _args: unknown, ctx: GraphQLContext) => {
        const { userId } = requireScope(ctx, "notifications:read");
        return follow(
          ctx,
          notificationsChannel(ctx.deps.config.redis.keyPrefix, userId),
          async () => {},
          async (event, push) => {
            if (event.kind !== "notification" || event.userId !== userId) return;
            const row = await findNotificationByKey(ctx.deps.db.primary, userId, event.dedupeKey);
            if (row) await push({ notificationAdded: notificationView(row) });
          },
        );
      },
    },
  },
};
