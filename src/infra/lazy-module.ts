/**
 * A module loaded on first use instead of at start (issue #11: start-to-ready). Module load dominated the
 * API's start: `@aws-sdk/client-s3` ~1 s, the zxcvbn dictionaries ~1.6 s, sharp ~0.9 s on a loaded machine,
 * none of which a catalogue read needs. Bun's `require` loads synchronously, so callers stay synchronous; the
 * first caller pays the load once (measured by `bun run bench species`, "cold start").
 */
export function lazyModule<T>(load: () => T): () => T {
  let loaded: { module: T } | undefined;
  return () => {
    loaded ??= { module: load() };
    return loaded.module;
  };
}
