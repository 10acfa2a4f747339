/**
 * Lines written in one tick reach the stream as one write: a fully cached run of a large graph emits
 * thousands of events at once, and a write per line costs more than the work they report.
 * `flush` writes what is pending now (before exit, or before an error message).
 */
export class CoalescingWriter {
  #pending = "";
  #scheduled = false;

  constructor(private readonly stream: NodeJS.WritableStream = process.stderr) {}

  readonly write = (text: string): void => {
    this.#pending += text;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  };

  flush(): void {
    this.#scheduled = false;
    if (this.#pending === "") return;
    const text = this.#pending;
    this.#pending = "";
    this.stream.write(text);
  }
}
