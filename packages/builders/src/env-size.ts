import { ConfigError } from "@makes/core";

/**
 * Linux's MAX_ARG_STRLEN, 32 pages of 4 KiB: the most bytes one argv or environment string may have, its
 * terminating NUL included. execve refuses a longer one with E2BIG whatever the stack limit is.
 */
export const MAX_ARG_STRLEN = 32 * 4096;

/** The bytes `NAME=value` takes in an environment block: UTF-8, with its `=` and its NUL. */
export function envStringBytes(key: string, value: string): number {
  return Buffer.byteLength(key) + Buffer.byteLength(value) + 2;
}

/**
 * Refuses an env value no process could be started with. `where` names the variable (`makeDerivation "x":
 * env.BIG`). The value is measured as written (a node token stands for a store path of about the same
 * length); one that grows past the limit when its paths are put in is caught when the builder starts.
 */
export function checkEnvSize(where: string, key: string, value: string): void {
  const bytes = envStringBytes(key, value);
  if (bytes <= MAX_ARG_STRLEN) return;
  throw new ConfigError(
    "bad-argument",
    `${where} is ${Buffer.byteLength(value)} bytes long, over the ${MAX_ARG_STRLEN} bytes Linux allows one environment variable with its name (MAX_ARG_STRLEN); write the value to a file (for example the $out of a makeDerivation, whose builder text has no such limit) and pass its path instead`,
  );
}
