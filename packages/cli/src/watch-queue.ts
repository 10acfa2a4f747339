/**
 * How long the file system must be quiet before an iteration starts (a trailing debounce).
 *
 * 80 ms: an editor's save (write a temporary file, rename it over, chmod), a formatter run on save or a
 * `git checkout` of many files arrive as bursts whose events are at most a few tens of milliseconds
 * apart, so one burst becomes one iteration; ibazel uses 100 ms and lage 200 ms. Shorter than that
 * would split bursts; longer would eat into the 200 ms budget from saving a file to its rebuilt
 * output, of which re-hashing and building a small job take most of the rest.
 */
export const WATCH_DEBOUNCE_MS = 80;

/**
 * The heart of watch mode's scheduling, without any file system: changes are collected into one
 * pending batch; the batch runs `iterate` once the changes have been quiet for `debounceMs`; changes
 * that arrive while an iteration runs are merged into a single queued batch that runs right after it
 * (never two queued iterations, never two at once).
 */
export class IterationQueue {
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly iterate: (changed: ReadonlySet<string>) => Promise<void>,
    private readonly debounceMs: number = WATCH_DEBOUNCE_MS,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** A path changed: (re)start the quiet-period timer. */
  notify(path: string): void {
    if (this.#closed) return;
    this.#pending.add(path);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#fire(), this.debounceMs);
  }

  /** Starts an iteration now with whatever is pending (the first build); queued if one is running. */
  runNow(): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running === undefined) this.#start();
    else this.#pending.add("");
  }

  /** True while an iteration runs. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Stops scheduling; resolves when the running iteration (if any) has finished. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
    await this.#running;
  }

  #fire(): void {
    this.#timer = undefined;
    // While an iteration runs the batch stays pending: it is the one queued iteration, started when
    // the running one ends. Further changes only add to it.
    if (this.#running === undefined) this.#start();
  }

  #start(): void {
    const batch = this.#pending;
    batch.delete("");
    this.#pending = new Set();
    this.#running = this.iterate(batch)
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.#running = undefined;
        // A batch whose quiet period ended during the iteration runs now; one still settling (timer
        // set) starts when its timer fires.
        if (!this.#closed && this.#timer === undefined && this.#pending.size > 0) this.#start();
      });
  }
}
