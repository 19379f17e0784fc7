/** Where a line buffer hands its batches: sonic-boom (pino.destination) in the API. */
export type LogSink = {
  write(chunk: string): unknown;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
};

export type LineBuffer = ReturnType<typeof lineBuffer>;

/**
 * Gathers log lines and hands them to `sink` as one string once about `bufferBytes` are pending (counted in
 * UTF-16 units: a threshold, not a limit), or when flushed. sonic-boom can buffer by itself (`minLength`), but
 * it measures the byte length of its whole pending buffer for every line it is given (Buffer.byteLength of up
 * to 16 KB per write), which measured ~3 % of a cached catalogue read (issue #17); here each line is counted
 * once, by its length, and the sink sees one write per batch.
 */
export function lineBuffer(sink: LogSink, bufferBytes: number) {
  let parts: string[] = [];
  let pending = 0;
  const drain = () => {
    if (parts.length === 0) return;
    const chunk = parts.length === 1 ? parts[0]! : parts.join("");
    parts = [];
    pending = 0;
    sink.write(chunk);
  };
  return {
    /** pino's destination interface: always accepted (the sink applies its own back-pressure rules). */
    write(line: string): boolean {
      parts.push(line);
      pending += line.length;
      if (pending >= bufferBytes) drain();
      return true;
    },
    /**
     * Hands the pending lines to the sink, which writes them as soon as its previous write is done; with `cb`
     * (pino's `logger.flush(cb)`), called once the sink has written them.
     */
    flush(cb?: (err?: Error) => void) {
      drain();
      if (cb) sink.flush(cb);
    },
    /** Writes everything, synchronously (exit). */
    flushSync() {
      drain();
      sink.flushSync();
    },
  };
}
