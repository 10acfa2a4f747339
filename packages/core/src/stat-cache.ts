import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { readFile } from "node:fs/promises";
import { readFileChunks } from "./read-file-chunks.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/**
 * File digests keyed by stat data, so an unchanged tree is hashed without reading its files.
 * An entry is trusted only when size, mtime, ctime, inode and mode all match AND the file's mtime is
 * older than the moment the digest was taken minus RACY_MARGIN_MS: a file written in the same instant
 * as it was hashed could change again without its mtime moving (git's racy-clean rule), so it is
 * re-hashed until its mtime is safely in the past.
 */
const RACY_MARGIN_MS = 2000; // covers coarse file-system timestamps (2 s on FAT, ~10 ms on ext4).
const FORMAT = 2;

type Entry = [size: number, mtimeMs: number, ctimeMs: number, ino: number, mode: number, hashedAt: number, digest: string, blob: string | null];

export interface FileDigest {
  /** sha256 of the content. */
  readonly digest: string;
  /** The content's git blob id (sha1 of `blob <size>\0` and the bytes), taken from the same read. */
  readonly blob?: string | undefined;
}

export class StatCache {
  #entries = new Map<string, Entry>();
  #dirty = false;
  #loading: Promise<void> | undefined;
  hits = 0;
  misses = 0;

  constructor(readonly file: string) {}

  /** Read on first use: a run whose files git vouches for never needs it. */
  load(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const parsed = JSON.parse(await readFile(this.file, "utf8")) as { format?: number; entries?: Record<string, Entry> };
        if (parsed.format === FORMAT && parsed.entries !== undefined) this.#entries = new Map(Object.entries(parsed.entries));
      } catch {
        // A missing or unreadable cache only costs a re-hash.
      }
    })();
    return this.#loading;
  }

  async digest(absPath: string, stat: Stats): Promise<FileDigest> {
    await this.load();
    const entry = this.#entries.get(absPath);
    if (
      entry !== undefined &&
      entry[0] === stat.size &&
      entry[1] === stat.mtimeMs &&
      entry[2] === stat.ctimeMs &&
      entry[3] === stat.ino &&
      entry[4] === stat.mode &&
      stat.mtimeMs < entry[5] - RACY_MARGIN_MS
    ) {
      this.hits++;
      return { digest: entry[6], blob: entry[7] ?? undefined };
    }
    this.misses++;
    const hashedAt = Date.now();
    const hashed = await hashFile(absPath, stat.size);
    this.#entries.set(absPath, [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.mode, hashedAt, hashed.digest, hashed.blob ?? null]);
    this.#dirty = true;
    return hashed;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    // The cache is an optimisation: failing to save it (full disk) must not fail the run.
    await writeFileAtomic(this.file, JSON.stringify({ format: FORMAT, entries: Object.fromEntries(this.#entries) })).catch(() => undefined);
  }
}

/**
 * sha256 of a file and, from the same read, its git blob id. The blob header needs the size before the bytes:
 * `expectedSize` is the lstat's, and a file whose length differs from it (written meanwhile) gets no blob id.
 */
async function hashFile(path: string, expectedSize: number): Promise<FileDigest> {
  const sha256 = createHash("sha256");
  const sha1 = createHash("sha1").update(`blob ${expectedSize}\0`);
  let length = 0;
  await readFileChunks(path, (chunk) => {
    sha256.update(chunk);
    sha1.update(chunk);
    length += chunk.length;
  });
  return { digest: sha256.digest("hex"), blob: length === expectedSize ? sha1.digest("hex") : undefined };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await readFileChunks(path, (chunk) => hash.update(chunk));
  return hash.digest("hex");
}
