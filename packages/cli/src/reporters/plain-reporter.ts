import { existsSync } from "node:fs";
import type { MakesEvent } from "@makes/core";
import { formatDuration } from "./format-duration.js";
import { CoalescingWriter } from "./coalescing-writer.js";
import type { Reporter, ReporterOptions } from "./reporter.js";

/** One line per event on stderr: for logs and CI. */
export class PlainReporter implements Reporter {
  readonly #out: CoalescingWriter | undefined;
  private readonly write: (text: string) => void;

  constructor(
    write?: (text: string) => void,
    private readonly options: ReporterOptions = {},
  ) {
    this.#out = write === undefined ? new CoalescingWriter() : undefined;
    this.write = write ?? this.#out?.write ?? ((t) => process.stderr.write(t));
  }

  onEvent(event: MakesEvent): void {
    const line = this.lineFor(event);
    if (line !== undefined) this.write(`${line}\n`);
  }

  protected lineFor(event: MakesEvent): string | undefined {
    switch (event.type) {
      case "run-started":
        return undefined;
      case "node-started":
        return `building ${event.node.label}`;
      case "node-built":
        return `built    ${event.node.label} (${formatDuration(event.durationMs)})`;
      case "node-cached":
        return event.reusedFrom === undefined
          ? `cached   ${event.node.label}`
          : `cached   ${event.node.label} (early cutoff: its dependencies changed, their outputs did not; copied from ${event.reusedFrom})`;
      case "node-would-build":
        return `would build ${event.node.label} → ${event.node.path}`;
      case "node-skipped":
        return `skipped  ${event.node.label}: ${event.because}`;
      case "node-failed":
        return failureLines(event);
      case "node-log":
        return event.text
          .replace(/\n$/, "")
          .split("\n")
          .map((l) => `${event.node.label}> ${l}`)
          .join("\n");
      case "warning":
        return `warning: ${event.node === undefined ? "" : `${event.node.label}: `}${event.message}`;
      case "run-finished":
        return summaryLine(event, this.options);
      default: {
        const never: never = event;
        return never;
      }
    }
  }

  error(message: string, detail?: string): void {
    this.write(`makes: error: ${message}\n${detail === undefined ? "" : `${detail}\n`}`);
    this.#out?.flush(); // an error may be the last thing makes prints before it exits
  }

  info(message: string): void {
    this.write(`${message}\n`);
  }

  close(): void {
    this.#out?.flush();
  }
}

/**
 * A failure: the job's label first (messages from the store or an image's layers name a package or a
 * path, not the job), then the event's raw detail quoted line by line, then where the full log is.
 */
export function failureLines(event: Extract<MakesEvent, { type: "node-failed" }>): string {
  const { label } = event.node;
  const named = event.message === label || event.message.startsWith(`${label}:`) || event.message.startsWith(`${label} `);
  const lines = [`failed   ${named ? event.message : `${label}: ${event.message}`}`];
  if (event.detail !== undefined && event.detail !== "") lines.push(...event.detail.replace(/\n$/, "").split("\n").map((l) => `  | ${l}`));
  // A failure before the builder started (a lock, a full disk) has no log worth pointing at.
  if (event.logPath !== undefined && !(event.detail ?? "").includes(event.logPath) && existsSync(event.logPath)) lines.push(`  full log: ${event.logPath}`);
  return lines.join("\n");
}

export function summaryLine(event: Extract<MakesEvent, { type: "run-finished" }>, options: ReporterOptions = {}): string {
  if (options.dryRun === true) {
    // Nothing is built in a dry run: what is neither cached nor failed is what a run would build.
    const parts = [`${event.skipped} would be built`, `${event.cached} cached`];
    if (event.failed > 0) parts.push(`${event.failed} failed`);
    return `makes: dry run: ${parts.join(", ")} in ${formatDuration(event.durationMs)}`;
  }
  const parts = [`${event.built} built`, `${event.cached} cached`, `${event.failed} failed`];
  if (event.skipped > 0) parts.push(`${event.skipped} not built`);
  return `makes: ${parts.join(", ")} in ${formatDuration(event.durationMs)}`;
}
