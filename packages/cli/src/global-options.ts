import { availableParallelism } from "node:os";
import { UsageError } from "@makes/core";
import type { ReporterName } from "./reporters/reporter.js";
import { flagOf } from "./usage-message.js";

/** Options every command accepts. */
export interface GlobalOptions {
  readonly C: string | undefined;
  readonly config: string | undefined;
  readonly store: string | undefined;
  /** -j as given (parsed by concurrencyOf, so that a bad value is reported as the user wrote it). */
  readonly jobs: string | undefined;
  readonly keepGoing: boolean;
  readonly dryRun: boolean;
  readonly printLogs: boolean;
  readonly reporter: ReporterName;
}

/** -j: a whole number ≥ 1 written in decimal digits; default the number of cores. */
export function concurrencyOf(options: GlobalOptions): number {
  const j = options.jobs;
  if (j === undefined) return availableParallelism();
  const n = /^[0-9]+$/.test(j) ? Number(j) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError("bad-flag", `-j/--jobs must be a positive whole number of parallel builds (≥ 1; got ${JSON.stringify(j)}); for example -j 4`);
  }
  return n;
}

/**
 * An empty MAKES_STORE counts as unset (as an empty variable does for most tools); an explicit empty
 * --store is refused by `checkPathFlags`, because "" would resolve to the current directory.
 */
export function storeOption(options: GlobalOptions): string | undefined {
  return options.store ?? (process.env.MAKES_STORE === "" ? undefined : process.env.MAKES_STORE);
}

/** What each global flag takes, for usage messages; keyed as yargs names the options. */
export const GLOBAL_FLAG_VALUES: ReadonlyMap<string, string> = new Map([
  ["C", "a directory, for example -C path/to/project"],
  ["config", "a file, for example --config ci/makes.ts"],
  ["store", "a directory, for example --store /var/cache/makes"],
  ["j", "a number of parallel builds (≥ 1), for example -j 4"],
  ["reporter", "auto, terminal, plain or json"],
]);

/** The flags that name a directory or file: an empty value (`--store ""`) is a usage error, not the current directory. */
export function checkPathFlags(options: GlobalOptions): void {
  const flags = [["store", options.store], ["C", options.C], ["config", options.config]] as const;
  for (const [key, value] of flags) {
    if (value === "") throw new UsageError("bad-flag", `${flagOf(key)} was given an empty value; it takes ${GLOBAL_FLAG_VALUES.get(key) ?? "a value"}`);
  }
}
