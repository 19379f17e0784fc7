/**
 * Runs a process's entry point (the API's, a worker's): a start that throws, because the configuration or a
 * dependency refused, ends the process with exit code 1 and the error on stderr, where nothing else can log it
 * yet. The entry points have no top-level await (the production bundle is CommonJS, scripts/build.ts).
 */
export function runMain(start: () => Promise<void>): void {
  start().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
