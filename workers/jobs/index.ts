import type { JobRegistry } from "../job-types.ts";
import { identificationRun } from "./default.identification-run.ts";
import { emailSend } from "./fast.email-send.ts";
import { notificationSend } from "./fast.notification-send.ts";
import { accountErase } from "./slow.account-erase.ts";
import { accountExport } from "./slow.account-export.ts";
import { cacheWarm } from "./slow.cache-warm.ts";
import { cspDailyReport } from "./slow.csp-daily-report.ts";
import { identificationBatch } from "./slow.identification-batch.ts";
import { mediaPurge } from "./slow.media-purge.ts";
import { uploadsSweep } from "./slow.uploads-sweep.ts";

/** Job name -> implementation. The lane each runs in comes from the routing table in src/infra/queues.ts. */
export const jobs: JobRegistry = {
  "identification.run": identificationRun,
  "identification.batch": identificationBatch,
  "notification.send": notificationSend,
  "email.send": emailSend,
  "media.purge": mediaPurge,
  "uploads.sweep": uploadsSweep,
  "cache.warm": cacheWarm,
  "csp.daily-report": cspDailyReport,
  "account.erase": accountErase,
  "account.export": accountExport,
};
