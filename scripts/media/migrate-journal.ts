import { closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs";

/**
 * The migration's memory, one JSON object per line, appended with one write(2) each so a SIGKILL leaves whole
 * lines (at worst a torn last line, which is ignored):
 *   {"t":"start","key":...}                      before an object's PUT
 *   {"t":"done","key":...,"sha256":...,"size":N} after the object in the bucket was verified
 * A rerun skips "done" keys; a key "start"ed but not "done" may have landed in the bucket before the kill, so
 * the rerun checks the bucket before sending it again (that is what makes "nothing copied twice" hold).
 */
export type JournalState = {
  done: Map<string, { sha256: string; size: number }>;
  started: Set<string>;
};

export function readJournal(path: string): JournalState {
  const state: JournalState = { done: new Map(), started: new Set() };
  if (!existsSync(path)) return state;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let entry: { t?: unknown; key?: unknown; sha256?: unknown; size?: unknown };
    try {
      entry = JSON.parse(line);
    } catch {
      continue; // the torn last line of a killed run
    }
    if (typeof entry.key !== "string") continue;
    if (entry.t === "start") state.started.add(entry.key);
    if (entry.t === "done" && typeof entry.sha256 === "string" && typeof entry.size === "number") {
      state.done.set(entry.key, { sha256: entry.sha256, size: entry.size });
    }
  }
  return state;
}

export type Journal = {
  start(key: string): void;
  done(key: string, sha256: string, size: number): void;
  close(): void;
};

export function openJournal(path: string): Journal {
  const fd = openSync(path, "a");
  const append = (entry: Record<string, unknown>) => writeSync(fd, `${JSON.stringify(entry)}\n`);
  return {
    start: (key) => append({ t: "start", key }),
    done: (key, sha256, size) => append({ t: "done", key, sha256, size, at: new Date().toISOString() }),
    close: () => closeSync(fd),
  };
}
