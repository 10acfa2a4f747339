import type { RunArgs } from "./run.js";

/** Placeholder until watch mode lands: watch is refused with a usage error. */
export async function watchCommand(_args: RunArgs): Promise<number> {
  const { UsageError } = await import("@makes/core");
  throw new UsageError("bad-flag", "--watch is not available yet");
}
