import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./write-file-atomic.js";

/** `makes blob digests 1 <sha256 of the lines>\n`: a damaged file is refused whole, never read as a wrong digest. */
const HEADER = /^makes blob digests 1 ([0-9a-f]{64})\n/;
const HEADER_LENGTH = "makes blob digests 1 ".length + 64 + 1;
/** `<40 hex: git blob id> <64 hex: sha256>\n` */
const LINE = 40 + 1 + 64 + 1;
/**
 * Past this many entries, a save keeps only those used or learned by this run: old contents of files pile up
 * with every edit, and a run over the whole project uses all it still needs. 200,000 lines are ~21 MB.
 */
const PRUNE_ABOVE = 200_000;

/**
 * The sha256 of each git blob whose raw bytes makes has read: a content fact, true forever, so it needs no stat
 * data and no racy-clean rule. A file git vouches for (GitListing.clean) is digested from its blob id with no
 * syscall. An entry is learned only from a read of the file whose own blob id matched git's.
 */
export class BlobDigests {
  #digests = new Map<string, string>();
  /** Kept only when a save may prune (the Set would otherwise cost a insertion per file on every run). */
  #used: Set<string> | undefined;
  #dirty = false;
  #loading: Promise<void> | undefined;

  constructor(readonly file: string) {}

  /** Read once, when the first source tree is listed. */
  load(): Promise<void> {
    this.#loading ??= this.#read();
    return this.#loading;
  }

  async #read(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, "latin1");
    } catch {
      return; // none yet, or unreadable: digests are learned again
    }
    const sum = HEADER.exec(text)?.[1];
    if (sum === undefined || (text.length - HEADER_LENGTH) % LINE !== 0) return;
    if (createHash("sha256").update(text.slice(HEADER_LENGTH), "latin1").digest("hex") !== sum) return;
    for (let at = HEADER_LENGTH; at < text.length; at += LINE) this.#digests.set(text.slice(at, at + 40), text.slice(at + 41, at + 105));
    if (this.#digests.size > PRUNE_ABOVE / 2) this.#used = new Set();
  }

  get(blob: string): string | undefined {
    const digest = this.#digests.get(blob);
    if (digest !== undefined) this.#used?.add(blob);
    return digest;
  }

  learn(blob: string, digest: string): void {
    this.#used?.add(blob);
    if (this.#digests.get(blob) === digest) return;
    this.#digests.set(blob, digest);
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const used = this.#used;
    const keep = used !== undefined && this.#digests.size > PRUNE_ABOVE ? [...used] : [...this.#digests.keys()];
    const body = keep.map((blob) => `${blob} ${this.#digests.get(blob) ?? ""}\n`).filter((line) => line.length === LINE).join("");
    // An optimisation: failing to save it (full disk) must not fail the run. The text is ASCII, so UTF-8 is latin1.
    await writeFileAtomic(this.file, `makes blob digests 1 ${createHash("sha256").update(body, "latin1").digest("hex")}\n${body}`).catch(() => undefined);
  }
}
