import { deliverNotification } from "../../src/modules/notifications/notifications.deliver.ts";
import type { JobDefinition } from "../job-types.ts";

/** fast lane: one in-app notification per (user, key), however often the job is delivered. */
export const notificationSend: JobDefinition<"notification.send"> = {
  async run(deps, payload, ctx) {
    const result = await deliverNotification(deps, payload);
    ctx.logger.debug(result, "notification delivered");
    return result;
  },
};
