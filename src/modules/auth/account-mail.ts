import type { Deps } from "../../deps.ts";
import { enqueue } from "../../infra/queues.ts";

/**
 * The account e-mails, as plain text (links and codes are the point; no tracking, no HTML to get wrong).
 * Each has an idempotency key, so a job delivered twice sends one message.
 */
export type AccountMail = { key: string; to: string; subject: string; text: string };

const SIGNATURE = "\n\n— Plant Community\n";

export const accountMail = {
  verify: (to: string, link: string, tokenId: string, ttlHours: number): AccountMail => ({
    key: `verify-email:${tokenId}`,
    to,
    subject: "Confirm your e-mail address",
    text: `Welcome to Plant Community.\n\nConfirm this address by opening:\n${link}\n\nThe link works once and expires in ${ttlHours} hours. If you did not sign up, ignore this message.${SIGNATURE}`,
  }),
  alreadyRegistered: (to: string, resetLink: string, attemptId: string): AccountMail => ({
    key: `register-taken:${attemptId}`,
    to,
    subject: "Someone tried to sign up with your address",
    text: `Someone (perhaps you) tried to create a Plant Community account with this address, which already has one. Nothing was changed.\n\nIf you forgot your password, reset it here:\n${resetLink}${SIGNATURE}`,
  }),
  reset: (to: string, link: string, tokenId: string, ttlMinutes: number): AccountMail => ({
    key: `reset-password:${tokenId}`,
    to,
    subject: "Reset your password",
    text: `Open this link to choose a new password:\n${link}\n\nThe link works once and expires in ${ttlMinutes} minutes. Resetting signs out every device. If you did not ask for this, ignore this message: your password stays as it is.${SIGNATURE}`,
  }),
  underAttack: (to: string, day: string, userId: string): AccountMail => ({
    key: `login-attack:${userId}:${day}`,
    to,
    subject: "Many failed sign-ins to your account",
    text: `Someone has been trying wrong passwords on your Plant Community account. We have slowed sign-ins down; your password was not accepted.\n\nIf you need to sign in now, ask the app for a sign-in code: it is sent here and lets you in with your password at once. If your password is short or used elsewhere, change it.${SIGNATURE}`,
  }),
  loginCode: (to: string, code: string, codeId: string, ttlMinutes: number): AccountMail => ({
    key: `login-code:${codeId}`,
    to,
    subject: `Your sign-in code: ${code}`,
    text: `Your Plant Community sign-in code is ${code}.\n\nEnter it with your password. It works once and expires in ${ttlMinutes} minutes. If you did not ask for it, someone may know your address; your password is still needed.${SIGNATURE}`,
  }),
};

/**
 * Queues the message on the fast lane. Never throws: the answer to the client must not depend on whether the
 * address has an account, and a lost message is recoverable (ask again), a 500 here is not.
 */
export async function sendAccountMail(
  deps: Pick<Deps, "queues" | "metrics" | "logger">,
  userId: string,
  mail: AccountMail,
): Promise<boolean> {
  try {
    await enqueue(deps, "email.send", mail, { groupId: `mail:${userId}` });
    return true;
  } catch (err) {
    deps.logger.error({ err: String(err), key: mail.key.split(":")[0] }, "account e-mail not queued");
    return false;
  }
}
