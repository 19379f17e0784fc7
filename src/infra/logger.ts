import pino from "pino";
import { lineBuffer } from "./log-buffer.ts";

export type Logger = pino.Logger;

const REDACT = [
  "password",
  "*.password",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "apiKey",
  "*.apiKey",
  "authorization",
  "*.authorization",
  "email",
  "*.email",
];

/*
 * pino's isoTime, formatted once per millisecond: under load several lines share a millisecond, and
 * Date#toISOString per line showed in the profile of a cached read.
 */
let lastMs = -1;
let lastTime = "";
export function isoTime(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = `,"time":"${new Date(ms).toISOString()}"`;
  }
  return lastTime;
}

export type LogBuffering = { bufferBytes: number; flushIntervalMs: number };

/**
 * Lines go to stdout. With `buffering` (the API), lines are gathered up to `bufferBytes` and written together
 * (issue #17: one write per line measured ~9 % of a cached read under load), flushed at least every
 * `flushIntervalMs`, at once after any warn/error/fatal line, and synchronously when the process exits (also
 * after an uncaught error: Bun emits `exit` then). So under load nothing is dropped or sampled; a crash can
 * lose nothing already logged, only a SIGKILL can lose up to one interval of lines.
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  buffering?: LogBuffering,
): Logger {
  // Lines are gathered in front of sonic-boom, which writes each batch as soon as its previous write is done.
  const buffered =
    !destination && buffering && buffering.bufferBytes > 0
      ? lineBuffer(pino.destination({ dest: 1, sync: false }), buffering.bufferBytes)
      : undefined;
  if (buffered && buffering) {
    setInterval(() => buffered.flush(), buffering.flushIntervalMs).unref();
    process.on("exit", () => {
      try {
        buffered.flushSync();
      } catch {
        // stdout closed: nothing left to write to
      }
    });
  }
  return pino(
    {
      level,
      base: undefined,
      messageKey: "message",
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: "[redacted]" },
      ...(buffered && {
        hooks: {
          logMethod(args, method, levelValue) {
            method.apply(this, args);
            if (levelValue >= 40) buffered.flush(); // warnings and errors are never held back
          },
        },
      }),
    },
    buffered ?? destination ?? pino.destination({ sync: false }),
  );
}
