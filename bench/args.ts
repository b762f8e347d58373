/** Command-line flags of the benchmark programs: `--name value`, with a default. */

/** A numeric flag. */
export function numArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** A text flag. */
export function strArg(name: string, dflt: string): string;
export function strArg(name: string, dflt?: string): string | undefined;
export function strArg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
