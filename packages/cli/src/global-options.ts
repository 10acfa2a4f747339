import { availableParallelism } from "node:os";
import { UsageError } from "@makes/core";
import type { ReporterName } from "./reporters/reporter.js";

/** Options every command accepts. */
export interface GlobalOptions {
  readonly C: string | undefined;
  readonly config: string | undefined;
  readonly store: string | undefined;
  readonly jobs: number | undefined;
  readonly keepGoing: boolean;
  readonly dryRun: boolean;
  readonly printLogs: boolean;
  readonly reporter: ReporterName;
}

/** -j: a positive integer; default the number of cores. */
export function concurrencyOf(options: GlobalOptions): number {
  const j = options.jobs;
  if (j === undefined) return availableParallelism();
  if (!Number.isInteger(j) || j < 1) {
    throw new UsageError("bad-flag", `-j/--jobs must be a positive whole number of parallel builds (got ${String(j)}); for example -j 4`);
  }
  return j;
}

export function storeOption(options: GlobalOptions): string | undefined {
  return options.store ?? (process.env.MAKES_STORE === "" ? undefined : process.env.MAKES_STORE);
}
