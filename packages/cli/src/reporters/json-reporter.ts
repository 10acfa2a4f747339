import type { MakesEvent } from "@makes/core";
import { CoalescingWriter } from "./coalescing-writer.js";
import type { Reporter } from "./reporter.js";

/**
 * One JSON object per line on stderr (stdout keeps carrying only output paths). Every event has
 * `type` and `time` (ms since the epoch); node events carry the node's hash, label, kind and path.
 */
export class JsonReporter implements Reporter {
  readonly #out: CoalescingWriter | undefined;
  private readonly write: (text: string) => void;

  constructor(write?: (text: string) => void) {
    this.#out = write === undefined ? new CoalescingWriter() : undefined;
    this.write = write ?? this.#out?.write ?? ((t) => process.stderr.write(t));
  }

  onEvent(event: MakesEvent): void {
    this.write(`${JSON.stringify({ ...event, time: Date.now() })}\n`);
  }

  error(message: string, detail?: string): void {
    this.write(`${JSON.stringify({ type: "error", message, detail, time: Date.now() })}\n`);
    this.#out?.flush(); // an error may be the last thing makes prints before it exits
  }

  info(message: string): void {
    this.write(`${JSON.stringify({ type: "info", message, time: Date.now() })}\n`);
  }

  close(): void {
    this.#out?.flush();
  }
}
