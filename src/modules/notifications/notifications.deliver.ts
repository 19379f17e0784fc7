import type { Deps } from "../../deps.ts";
import { publishLiveEvent } from "../../graphql/live-events.ts";
import type { JobPayload } from "../../infra/job-catalogue.ts";
import { enqueue } from "../../infra/queues.ts";
import { findNotificationRecipient, insertNotification } from "./notifications.repo.ts";

/**
 * The in-app notification (once per key), and the same news by e-mail for users whose preferences say
 * `emailNotifications: true`. The e-mail is enqueued on every delivery of this job, not only the first: a
 * crash between the insert and the enqueue must not lose it, and email.send sends once per key anyway.
 */
export async function deliverNotification(
  deps: Pick<Deps, "db" | "queues" | "metrics" | "redis" | "config" | "logger">,
  n: JobPayload<"notification.send">,
): Promise<{ inserted: boolean; emailed: boolean }> {
  const inserted = await insertNotification(deps.db.primary, n);
  // GraphQL's notificationAdded, on whichever API instance the user's subscription is connected to.
  if (inserted) await publishLiveEvent(deps, { kind: "notification", userId: n.userId, dedupeKey: n.key });
  const recipient = await findNotificationRecipient(deps.db.primary, n.userId);
  if (recipient?.wantsEmail) {
    await enqueue(
      deps,
      "email.send",
      {
        key: `notification:${n.userId}:${n.key}`,
        to: recipient.email,
        subject: n.title,
        text: n.body || n.title,
      },
      { groupId: `user:${n.userId}` },
    );
  }
  return { inserted, emailed: recipient?.wantsEmail === true };
}
