import type { MakesEvent, NodeInfo } from "@makes/core";
import { formatDuration } from "./format-duration.js";
import { PlainReporter, summaryLine } from "./plain-reporter.js";
import type { Reporter, ReporterOptions } from "./reporter.js";

/** Redraws often enough to look live, rarely enough to cost nothing. */
const REDRAW_MS = 100;

/**
 * The live view on a terminal: finished jobs scroll above; below, the running jobs with their elapsed
 * time and the counts of done, cached, failed and left. Redrawn in place with ANSI escapes on stderr.
 */
export class TerminalReporter implements Reporter {
  private readonly running = new Map<string, { node: NodeInfo; since: number }>();
  private counts = { built: 0, cached: 0, failed: 0, total: 0 };
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly plain: PlainReporter;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly options: ReporterOptions = {},
  ) {
    this.plain = new PlainReporter((t) => this.above(t), options);
  }

  onEvent(event: MakesEvent): void {
    switch (event.type) {
      case "run-started":
        this.counts = { built: 0, cached: 0, failed: 0, total: event.total };
        this.timer ??= setInterval(() => this.draw(), REDRAW_MS);
        this.timer.unref();
        break;
      case "node-started":
        this.running.set(event.node.hash, { node: event.node, since: Date.now() });
        break;
      case "node-built":
        this.running.delete(event.node.hash);
        this.counts.built++;
        this.plain.onEvent(event);
        break;
      case "node-cached":
        this.counts.cached++;
        if (event.reusedFrom !== undefined) this.plain.onEvent(event); // a cutoff is worth a line: it explains a skipped rebuild
        break;
      case "node-failed":
        this.running.delete(event.node.hash);
        this.counts.failed++;
        this.plain.onEvent(event);
        break;
      case "run-finished":
        this.stop();
        this.clear();
        this.stream.write(`${summaryLine(event, this.options)}\n`);
        return;
      case "node-skipped":
      case "node-would-build":
      case "node-log":
      case "warning":
        this.plain.onEvent(event);
        break;
      default: {
        const never: never = event;
        return never;
      }
    }
    this.draw();
  }

  private above(text: string): void {
    this.clear();
    this.stream.write(text);
  }

  private clear(): void {
    if (this.drawnLines > 0) this.stream.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    this.clear();
    const now = Date.now();
    // A pty whose size was never set (`script -qc`) reports 0 columns: not a width to clip to.
    const width = this.stream.columns || 80;
    const lines = [...this.running.values()].slice(0, 8).map(({ node, since }) => `  ⠿ ${node.label} ${formatDuration(now - since)}`.slice(0, width - 1));
    if (this.running.size > 8) lines.push(`  … and ${this.running.size - 8} more`);
    const { built, cached, failed, total } = this.counts;
    const left = Math.max(0, total - built - cached - failed - this.running.size);
    lines.push(`  ${built} built · ${cached} cached · ${failed} failed · ${this.running.size} running · ${left} left`);
    this.stream.write(`${lines.join("\n")}\n`);
    this.drawnLines = lines.length;
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  error(message: string, detail?: string): void {
    this.stop();
    this.clear();
    this.plain.error(message, detail);
  }

  info(message: string): void {
    this.above(`${message}\n`);
  }

  close(): void {
    this.stop();
    this.clear();
  }
}
