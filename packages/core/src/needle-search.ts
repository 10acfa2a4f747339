/**
 * Finds which of `needles` occur in data that arrives in chunks, matches across chunk boundaries included:
 * the last (longest needle − 1) bytes of what was seen are kept and searched again with the next chunk.
 */
export class NeedleSearch {
  readonly #needles: ReadonlyArray<{ text: string; bytes: Buffer }>;
  readonly #overlap: number;
  readonly #found = new Set<string>();
  #tail: Buffer = Buffer.alloc(0);

  constructor(needles: readonly string[]) {
    this.#needles = needles.filter((n) => n !== "").map((text) => ({ text, bytes: Buffer.from(text) }));
    this.#overlap = Math.max(0, ...this.#needles.map((n) => n.bytes.length - 1));
  }

  /** The needles seen so far. */
  get found(): ReadonlySet<string> {
    return this.#found;
  }

  /** Whether every needle has been seen (nothing is left to look for). */
  get done(): boolean {
    return this.#found.size === this.#needles.length;
  }

  /** Feeds the next chunk; returns whether some needle has been seen so far. */
  push(chunk: Buffer): boolean {
    if (this.done) return this.#found.size > 0;
    const window = this.#tail.length === 0 ? chunk : Buffer.concat([this.#tail, chunk]);
    for (const n of this.#needles) if (!this.#found.has(n.text) && window.includes(n.bytes)) this.#found.add(n.text);
    // A copy: the chunk's memory may be reused by the reader once this returns.
    this.#tail = this.done ? Buffer.alloc(0) : Buffer.from(window.subarray(Math.max(0, window.length - this.#overlap)));
    return this.#found.size > 0;
  }
}
