/**
 * Finds any of `needles` in data that arrives in chunks, matches across chunk boundaries included: the
 * last (longest needle − 1) bytes of what was seen are kept and searched again with the next chunk.
 */
export class NeedleSearch {
  readonly #needles: readonly Buffer[];
  readonly #overlap: number;
  #tail: Buffer = Buffer.alloc(0);
  #found = false;

  constructor(needles: readonly (string | Buffer)[]) {
    this.#needles = needles.map((n) => (typeof n === "string" ? Buffer.from(n) : n)).filter((n) => n.length > 0);
    this.#overlap = Math.max(0, ...this.#needles.map((n) => n.length - 1));
  }

  get found(): boolean {
    return this.#found;
  }

  /** Feeds the next chunk; returns whether a needle has been seen so far. */
  push(chunk: Buffer): boolean {
    if (this.#found || this.#needles.length === 0) return this.#found;
    const window = this.#tail.length === 0 ? chunk : Buffer.concat([this.#tail, chunk]);
    if (this.#needles.some((n) => window.includes(n))) {
      this.#found = true;
      this.#tail = Buffer.alloc(0);
      return true;
    }
    // A copy: the chunk's memory may be reused by the reader once this returns.
    this.#tail = Buffer.from(window.subarray(Math.max(0, window.length - this.#overlap)));
    return false;
  }
}
