import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as en from "@zxcvbn-ts/language-en";

/** zxcvbn's scale: 3 = "safely unguessable: moderate protection from offline slow-hash scenario" (>= 10^8 guesses). */
export const MIN_PASSWORD_SCORE = 3;

let estimator: ZxcvbnFactory | undefined;
function zxcvbn(): ZxcvbnFactory {
  // Built on first use (the dictionaries take ~0.5 s to rank), then shared.
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
    // Bounds the estimator's work on long random input (measured: 128 characters ~20 ms instead of ~600 ms);
    // a password whose first 64 characters are strong is strong.
    l33tMaxSubstitutions: 3,
    maxLength: 64,
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
