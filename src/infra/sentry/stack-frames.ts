/** A stack frame in Sentry's event format (https://develop.sentry.dev/sdk/data-model/event-payloads/stacktrace/). */
export type SentryFrame = {
  filename: string;
  function: string;
  lineno?: number;
  colno?: number;
  in_app: boolean;
};

// Sentry keeps the first and last frames of deeper stacks; 50 is what its JavaScript SDKs send.
const MAX_FRAMES = 50;

// Bun and V8 both write `    at fn (file:line:col)` or `    at file:line:col`; `async `/`new ` prefix some names.
const WITH_NAME = /^\s*at (?:async )?(.*?) \((.*?)(?::(\d+))?(?::(\d+))?\)\s*$/;
const WITHOUT_NAME = /^\s*at (?:async )?([^ ()]+?)(?::(\d+))?(?::(\d+))?\s*$/;

function frameOf(line: string): SentryFrame | undefined {
  const named = WITH_NAME.exec(line);
  const bare = named ? undefined : WITHOUT_NAME.exec(line);
  if (!named && !bare) return undefined;
  const raw = (named ? named[2] : bare?.[1]) ?? "<unknown>";
  const filename = raw.startsWith("file://") ? raw.slice("file://".length) : raw;
  const lineno = Number(named ? named[3] : bare?.[2]);
  const colno = Number(named ? named[4] : bare?.[3]);
  const name = named?.[1]?.trim();
  return {
    filename,
    function: name && name !== "<anonymous>" ? name : "?",
    ...(Number.isFinite(lineno) ? { lineno } : {}),
    ...(Number.isFinite(colno) ? { colno } : {}),
    // Our code is everything outside installed packages and the runtime's own modules (`native`, `node:*`).
    in_app: filename.startsWith("/") && !filename.includes("/node_modules/"),
  };
}

/**
 * The frames of an `Error.stack`, oldest call first (Sentry's order: the frame that threw is the last one).
 * Lines that are not frames (the message, `native` markers Bun prints) are skipped.
 */
export function parseStackFrames(stack: string | undefined): SentryFrame[] {
  if (!stack) return [];
  const frames: SentryFrame[] = [];
  for (const line of stack.split("\n")) {
    if (!/^\s*at /.test(line)) continue;
    const frame = frameOf(line);
    if (frame) frames.push(frame);
  }
  const kept = frames.length > MAX_FRAMES ? frames.slice(0, MAX_FRAMES) : frames;
  return kept.reverse();
}
