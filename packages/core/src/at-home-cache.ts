import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./write-file-atomic.js";

const FORMAT = 1;
/** Past this many hashes, a save keeps only those confirmed by this run (the others' paths may be long gone). */
const PRUNE_ABOVE = 100_000;

/**
 * The hashes whose metadata was read in this store, at this root, and found at home (Store.atHome). Metadata is
 * never rewritten: a path is built again only after gc or `verify --repair` removed it, and then in this store at
 * this root, so at home again. A cached run therefore needs only to see that the metadata and the output still
 * exist, not to read and parse every node's metadata. The file names the root it holds for: a moved store's file
 * holds for another root and is not used.
 */
export class AtHomeCache {
  #hashes: Set<string> | undefined;
  #confirmed = new Set<string>();
  #dirty = false;

  constructor(
    readonly file: string,
    readonly root: string,
  ) {}

  #load(): Set<string> {
    if (this.#hashes !== undefined) return this.#hashes;
    this.#hashes = new Set();
    try {
      const parsed = JSON.parse(readFileSync(this.file, "utf8")) as { format?: unknown; root?: unknown; hashes?: unknown };
      if (parsed.format === FORMAT && parsed.root === this.root && Array.isArray(parsed.hashes)) {
        for (const hash of parsed.hashes) if (typeof hash === "string") this.#hashes.add(hash);
      }
    } catch {
      // None yet or unreadable: the metadata is read instead.
    }
    return this.#hashes;
  }

  has(hash: string): boolean {
    const known = this.#load().has(hash);
    if (known) this.#confirmed.add(hash);
    return known;
  }

  add(hash: string): void {
    this.#confirmed.add(hash);
    const hashes = this.#load();
    if (hashes.has(hash)) return;
    hashes.add(hash);
    this.#dirty = true;
  }

  /** Written whole and renamed into place: concurrent runs each leave a complete file (the last one wins). */
  async save(): Promise<void> {
    if (!this.#dirty || this.#hashes === undefined) return;
    this.#dirty = false;
    const hashes = this.#hashes.size > PRUNE_ABOVE ? this.#confirmed : this.#hashes;
    // An optimisation: failing to save it (full disk, read-only store) must not fail the run.
    await writeFileAtomic(this.file, JSON.stringify({ format: FORMAT, root: this.root, hashes: [...hashes] })).catch(() => undefined);
  }
}
