import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Transporter } from "nodemailer";
import type { Config } from "../config/index.ts";
import { lazyModule } from "./lazy-module.ts";

// nodemailer loads with the first message, not at start (issue #17: cold start; in the production bundle it is
// a side bundle of its own, scripts/build.ts): the API builds a mailer at start and most instances never send.
const nodemailer = lazyModule(() => require("nodemailer") as typeof import("nodemailer"));

/** A transporter made on first use; `close()` closes it only if it was made. */
function onFirstUse(make: () => Transporter) {
  let transporter: Transporter | undefined;
  return {
    get: () => {
      transporter ??= make();
      return transporter;
    },
    close: () => transporter?.close(),
  };
}

export type OutgoingMail = {
  /** The producer's idempotency key; it also makes the Message-ID, so a resend is recognisable downstream. */
  key: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
};

export type Mailer = {
  readonly transport: "smtp" | "outbox";
  send(mail: OutgoingMail, signal?: AbortSignal): Promise<{ messageId: string }>;
  close(): void;
};

export function messageIdFor(key: string): string {
  const digest = new Bun.CryptoHasher("sha256").update(key).digest("hex").slice(0, 32);
  return `<${digest}@plant.community>`;
}

/** SMTP when SMTP_URL is set; otherwise (development) every message is written to MAIL_OUTBOX_DIR as an .eml file. */
export function createMailer(config: Config["mail"]): Mailer {
  return config.smtpUrl
    ? smtpMailer(config.smtpUrl, config.from)
    : outboxMailer(config.outboxDir, config.from);
}

function smtpMailer(url: string, from: string): Mailer {
  const transporter = onFirstUse(() =>
    nodemailer().createTransport({
      url,
      // Deadlines on every phase: nodemailer's defaults (2 and 10 minutes) would outlive the fast lane's limit.
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 10_000,
    }),
  );
  return {
    transport: "smtp",
    async send(mail, signal) {
      signal?.throwIfAborted();
      const info = await transporter.get().sendMail({ ...mail, from, messageId: messageIdFor(mail.key) });
      return { messageId: info.messageId };
    },
    close: transporter.close,
  };
}

function outboxMailer(dir: string, from: string): Mailer {
  const transporter = onFirstUse(() =>
    nodemailer().createTransport({ streamTransport: true, buffer: true, newline: "unix" }),
  );
  return {
    transport: "outbox",
    async send(mail, signal) {
      signal?.throwIfAborted();
      const info = await transporter.get().sendMail({ ...mail, from, messageId: messageIdFor(mail.key) });
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${mail.key.replace(/[^A-Za-z0-9._-]/g, "_")}.eml`);
      // Write then rename: a reader never sees half a message, and a second delivery replaces, never appends.
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, info.message as Buffer);
      await rename(tmp, file);
      return { messageId: info.messageId };
    },
    close: transporter.close,
  };
}
