import { z } from "@hono/zod-openapi";

const MESSAGE = "must not contain NUL characters or unpaired surrogates";

/** True for text PostgreSQL can store: no NUL (22021) and no lone UTF-16 surrogate (22P05 once encoded). */
export function isStorableText(value: string): boolean {
  return !value.includes("\u0000") && value.isWellFormed();
}

/**
 * The one string type for everything a client sends (query, path, header, body, form, cursor). Hostile text is
 * refused here with the field's path (400), before it reaches a query or a log line. `normalize` folds
 * equivalent spellings: NFKC for identifiers compared for equality (e-mail), NFC for names people read.
 */
export function text(opts: { normalize?: "NFC" | "NFKC" } = {}) {
  const base = z.string().refine(isStorableText, MESSAGE);
  return opts.normalize ? base.normalize(opts.normalize) : base;
}
