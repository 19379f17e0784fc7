import { findAccountsDueForErasure } from "../../src/modules/account-data/erasure.repo.ts";
import { eraseAccount } from "../../src/modules/account-data/erasure.ts";
import { removeExpiredExports } from "../../src/modules/account-data/exports.ts";
import type { JobDefinition } from "../job-types.ts";

/**
 * slow lane, scheduled (ACCOUNT_ERASURE_EVERY_MS): erases every deleted account whose grace period is over, a
 * page of accounts at a time, each in bounded idempotent steps (src/modules/account-data/erasure.ts), and removes
 * export archives past their lifetime. Stopped at its time limit or redelivered, a run resumes from the data.
 */
export const accountErase: JobDefinition<"account.erase"> = {
  async run(deps, payload, ctx) {
    let erased = 0;
    for (;;) {
      ctx.signal.throwIfAborted();
      const due = await findAccountsDueForErasure(deps.db.primary, payload.limit);
      for (const userId of due) {
        const report = await eraseAccount(deps, userId, ctx.signal);
        ctx.logger.info({ userId, ...report }, "account erased");
        erased += 1;
      }
      if (due.length < payload.limit) break;
    }
    const expiredExports = await removeExpiredExports(deps, ctx.signal);
    return { erased, expiredExports };
  },
};
