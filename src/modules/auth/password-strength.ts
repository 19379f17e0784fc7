import type { ZxcvbnFactory } from "@zxcvbn-ts/core";

/** zxcvbn's scale: 3 = "safely unguessable: moderate protection from offline slow-hash scenario" (>= 10^8 guesses). */
export const MIN_PASSWORD_SCORE = 3;

let estimator: ZxcvbnFactory | undefined;
function zxcvbn(): ZxcvbnFactory {
  // Loaded and built on the first password checked (the dictionaries take ~0.5-1.6 s to load and rank), then
  // shared: the API starts without them (issue #11).
  if (estimator) return estimator;
  const { ZxcvbnFactory } = require("@zxcvbn-ts/core") as typeof import("@zxcvbn-ts/core");
  const common = require("@zxcvbn-ts/language-common") as typeof import("@zxcvbn-ts/language-common");
  const en = require("@zxcvbn-ts/language-en") as typeof import("@zxcvbn-ts/language-en");
  estimator = new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
    // Bounds the estimator's work, which grows steeply with length (`bun run bench password`: 128 random
    // characters cost ~10x more at 64 than at 32 on a loaded machine). Only the first 32 characters are rated:
    // they must be hard to guess on their own, which any acceptable passphrase of that length already is.
    l33tMaxSubstitutions: 3,
    maxLength: 32,
  });
  return estimator;
}

/**
 * Why a new password would be refused, in words a person can act on; empty when it is acceptable. Length
 * (12-128) is the schema's job; this catches whitespace-only, common, guessable and personal passwords.
 */
export function passwordProblems(password: string, personal: readonly string[] = []): string[] {
  if (password.trim() === "") return ["must not be only spaces"];
  const inputs = personal.flatMap((p) => [p, ...p.split(/[@.\s]+/)]).filter((p) => p.length >= 3);
  const result = zxcvbn().check(password, inputs);
  if (result.score >= MIN_PASSWORD_SCORE) return [];
  const { warning, suggestions } = result.feedback;
  return [
    `is too easy to guess (strength ${result.score} of 4, at least ${MIN_PASSWORD_SCORE} needed)`,
    ...(warning ? [warning] : []),
    ...suggestions,
  ];
}
