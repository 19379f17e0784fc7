import type { Config } from "../../config/index.ts";

export type Passwords = ReturnType<typeof createPasswords>;

/** argon2id via Bun.password with the configured cost; see bench/login.ts for the measured price. */
export function createPasswords(config: Config["auth"]["argon2"]) {
  const options = {
    algorithm: "argon2id",
    memoryCost: config.memoryCost,
    timeCost: config.timeCost,
  } as const;
  let dummy: Promise<string> | undefined;
  return {
    hash: (password: string) => Bun.password.hash(password, options),
    verify: (password: string, hash: string) => Bun.password.verify(password, hash),
    /** Spends the same time as a real check, so an unknown email cannot be told apart by timing. */
    async verifyDummy(password: string): Promise<false> {
      dummy ??= Bun.password.hash(crypto.randomUUID(), options);
      await Bun.password.verify(password, await dummy);
      return false;
    },
  };
}
