import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Expected failures. Every error a user can cause is a MakesError subclass with a `reason`;
 * the CLI prints `message` as one line (plus `detail` lines when present) and exits with `exitCode`.
 * Anything else that escapes is an internal error and is shown with its stack.
 */
export abstract class MakesError extends Error {
  abstract readonly reason: string;
  /** 2 for usage and configuration errors, 1 for failed jobs. */
  abstract readonly exitCode: 1 | 2;
  /** Extra lines shown under the message (a log tail, a code frame); never a stack. */
  readonly detail: string | undefined;

  constructor(message: string, options?: { detail?: string | undefined; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = options?.detail;
  }
}

export type ConfigErrorReason =
  | "config-not-found"
  | "config-syntax"
  | "config-throws"
  | "config-bad-export"
  | "bad-job-name"
  | "bad-argument"
  | "cycle"
  | "package-not-installed";

/** A problem in makes.ts, in the arguments given to a builder, or in the graph they describe. */
export class ConfigError extends MakesError {
  readonly exitCode = 2 as const;
  constructor(
    readonly reason: ConfigErrorReason,
    message: string,
    options?: { detail?: string | undefined; cause?: unknown },
  ) {
    super(message, options);
  }
}

export type UsageErrorReason = "unknown-job" | "no-match" | "bad-flag" | "not-an-image" | "not-built";

/** A problem in how makes was invoked. */
export class UsageError extends MakesError {
  readonly exitCode = 2 as const;
  constructor(
    readonly reason: UsageErrorReason,
    message: string,
    options?: { detail?: string | undefined; cause?: unknown },
  ) {
    super(message, options);
  }
}

export type BuildErrorReason =
  | "builder-failed"
  | "no-output"
  | "hash-mismatch"
  | "download-failed"
  | "bad-output"
  | "unreadable-source"
  | "dependency-failed"
  | "environment-too-large"
  | "interrupted";

/** A job whose build failed. */
export class BuildError extends MakesError {
  readonly exitCode = 1 as const;
  constructor(
    readonly reason: BuildErrorReason,
    message: string,
    options?: { detail?: string | undefined; cause?: unknown },
  ) {
    super(message, options);
  }
}

export type StoreErrorReason = "no-space" | "permission" | "read-only" | "not-a-directory" | "corrupt" | "busy";

/** The store could not be written or read. */
export class StoreError extends MakesError {
  readonly exitCode = 1 as const;
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
    options?: { detail?: string | undefined; cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Node's recursive mkdir reports a directory it could not create on a read-only file system (or in a
 * directory it may not write) as ENOENT; the nearest existing ancestor tells the real reason. makes's own
 * directories are made with makeDirs, which reports the real error; this covers a recursive mkdir elsewhere.
 */
function mkdirCause(err: NodeJS.ErrnoException): unknown {
  if (err.code !== "ENOENT" || err.syscall !== "mkdir" || err.path === undefined) return err;
  let dir = dirname(err.path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch (cause) {
    return cause;
  }
  return err;
}

/** Turns an fs error from writing the store into a StoreError when the user can act on it. */
export function storeErrorFrom(error: unknown, what: string): unknown {
  const err = error instanceof Error ? mkdirCause(error as NodeJS.ErrnoException) : error;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new StoreError("no-space", `No space left on device while ${what}; free some space (or run \`makes gc\`) and try again.`, { cause: err });
  }
  if (code === "EROFS") {
    const path = (err as NodeJS.ErrnoException).path;
    return new StoreError("read-only", `The store is on a read-only file system${path === undefined ? "" : ` (${path})`} while ${what}; use a writable store directory with --store DIR (or MAKES_STORE=DIR).`, { cause: err });
  }
  if (code === "EACCES" || code === "EPERM") {
    return new StoreError("permission", `Permission denied while ${what} (${code}); check that the store directory is writable, or use another with --store DIR.`, { cause: err });
  }
  if (code === "ENOTDIR") {
    // `--store FILE`, or a file named .makes: the user's doing, and theirs to move.
    const path = (err as NodeJS.ErrnoException).path;
    return new StoreError("not-a-directory", `A file is in the way of a store directory while ${what}${path === undefined ? "" : ` (${path})`}; the store must be a directory: move the file or pass --store DIR.`, { cause: err });
  }
  return err;
}
