import { sendDailyReport } from "../../src/modules/csp-reports/csp-daily-report.ts";
import { addDays, utcDay } from "../../src/modules/csp-reports/csp-reports.service.ts";
import type { JobDefinition } from "../job-types.ts";

/** slow lane, scheduled daily: yesterday's CSP violations to every admin (e-mail + in-app), then retention. */
export const cspDailyReport: JobDefinition<"csp.daily-report"> = {
  async run(deps, payload, ctx) {
    const day = payload.day ?? addDays(utcDay(deps.clock.now()), -1);
    const result = await sendDailyReport(deps, day);
    ctx.logger.info(result, "CSP daily report");
    return result;
  },
};
