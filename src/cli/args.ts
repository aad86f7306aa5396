// A small argument parser for the CLI: flags with values, boolean flags, positionals.

/** Parsed arguments: flag values by name (without dashes) and positionals in order. */
export interface Args {
  flags: Map<string, string | true>;
  positionals: string[];
}

/** Boolean flags every command takes: --quiet (no progress line, no informational lines on stderr). */
export const COMMON_FLAGS: readonly string[] = ['quiet'];

/**
 * Parses `argv`; `valued` names the flags that take a value (`--top 5` or `--top=5`), `boolean` those that
 * do not (besides COMMON_FLAGS).
 */
export function parseArgs(
  argv: readonly string[],
  valued: readonly string[],
  boolean: readonly string[],
): Args {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  const rest = [...argv];
  for (let a = rest.shift(); a !== undefined; a = rest.shift()) {
    if (a === '--') {
      positionals.push(...rest);
      break;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (valued.includes(name)) {
      const value = eq < 0 ? rest.shift() : a.slice(eq + 1);
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else if ((boolean.includes(name) || COMMON_FLAGS.includes(name)) && eq < 0) {
      flags.set(name, true);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { flags, positionals };
}

/** Reads a whole-number flag within bounds. */
export function intFlag(args: Args, name: string, fallback: number, min: number, max: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number ${min}…${max}`);
  return n;
}

/** Reads a number flag in [0, 1] (a threshold). */
export function fractionFlag(args: Args, name: string, fallback: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError(`--${name} must be a number 0…1`);
  return n;
}

/** Wrong command-line usage: printed with the usage text, exit code 2. */
export class UsageError extends Error {}
