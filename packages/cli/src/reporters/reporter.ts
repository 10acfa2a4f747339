import type { MakesEvent } from "@makes/core";

/** Renders engine events on stderr. `close` prints nothing more after it is called. */
export interface Reporter {
  onEvent(event: MakesEvent): void;
  /** A one-line error (with optional detail lines) that ended the command. */
  error(message: string, detail?: string): void;
  info(message: string): void;
  close(): void;
}

export type ReporterName = "auto" | "plain" | "json" | "terminal";

export interface ReporterOptions {
  /** `--dry-run`: the summary says what would be built rather than counting it as not built. */
  readonly dryRun?: boolean;
}
