import { messageIdFor } from "../../src/infra/mailer.ts";
import { claimEmailDelivery, markEmailSent } from "../../src/modules/notifications/email-deliveries.repo.ts";
import type { JobDefinition } from "../job-types.ts";

/** fast lane: one message per idempotency key (SMTP, or an .eml file in the dev outbox). */
export const emailSend: JobDefinition<"email.send"> = {
  async run(deps, payload, ctx) {
    const db = deps.db.primary;
    const messageId = messageIdFor(payload.key);
    if (!(await claimEmailDelivery(db, { key: payload.key, messageId, transport: deps.mailer.transport }))) {
      ctx.logger.info({ key: payload.key }, "e-mail already sent; delivery skipped");
      return { sent: false };
    }
    await deps.mailer.send(payload, ctx.signal);
    await markEmailSent(db, payload.key);
    return { sent: true, messageId };
  },
};
