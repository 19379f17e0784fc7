import { sql } from "kysely";
import type { Db } from "../../db/connect.ts";

/**
 * Claims the right to send the message under `key`: true unless it was already sent. A claim left in
 * `sending` by a crashed worker is claimed again (the message may then go out twice if the crash fell between
 * the SMTP server accepting it and our mark; its Message-ID is the same, so mail systems can tell).
 */
export async function claimEmailDelivery(
  db: Db,
  d: { key: string; messageId: string; transport: string },
): Promise<boolean> {
  const row = await db
    .insertInto("email_deliveries")
    .values({ key: d.key, status: "sending", message_id: d.messageId, transport: d.transport, attempts: 1 })
    .onConflict((oc) =>
      oc
        .column("key")
        .doUpdateSet({ attempts: sql`email_deliveries.attempts + 1`, updated_at: sql`now()` })
        .where("email_deliveries.status", "=", "sending"),
    )
    .returning("key")
    .executeTakeFirst();
  return row !== undefined;
}

export async function markEmailSent(db: Db, key: string): Promise<void> {
  await db
    .updateTable("email_deliveries")
    .set({ status: "sent", sent_at: sql`now()`, updated_at: sql`now()` })
    .where("key", "=", key)
    .execute();
}
