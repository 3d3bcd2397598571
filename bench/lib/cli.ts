/** What every scenario script shares: its flags, and a run that ends by itself. */

/** `--name value` from the command line, or `def`. */
export function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? def) : def;
}

/**
 * Runs a scenario's main; whatever happens, the process ends within `limitMinutes` (a stuck run
 * exits 2; the bench server process is reaped on exit, see serverProcess.ts). A failure exits 1.
 */
export function runScenario(name: string, limitMinutes: number, main: () => Promise<void>): void {
  const deadline = setTimeout(() => {
    console.error(`${name}: still running after ${limitMinutes} minutes, giving up`);
    process.exit(2);
  }, limitMinutes * 60_000);
  main().then(
    () => clearTimeout(deadline),
    (err: unknown) => {
      clearTimeout(deadline);
      console.error(`${name} failed:`, err);
      process.exitCode = 1;
    },
  );
}
