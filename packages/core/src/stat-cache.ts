import { createHash } from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * File digests keyed by stat data, so an unchanged tree is hashed without reading its files.
 * An entry is trusted only when size, mtime, ctime, inode and mode all match AND the file's mtime is
 * older than the moment the digest was taken minus RACY_MARGIN_MS: a file written in the same instant
 * as it was hashed could change again without its mtime moving (git's racy-clean rule), so it is
 * re-hashed until its mtime is safely in the past.
 */
const RACY_MARGIN_MS = 2000; // covers coarse file-system timestamps (2 s on FAT, ~10 ms on ext4).
const FORMAT = 1;

type Entry = [size: number, mtimeMs: number, ctimeMs: number, ino: number, mode: number, hashedAt: number, digest: string];

export class StatCache {
  #entries = new Map<string, Entry>();
  #dirty = false;
  #loaded = false;
  hits = 0;
  misses = 0;

  constructor(readonly file: string) {}

  async load(): Promise<void> {
    if (this.#loaded) return;
    this.#loaded = true;
    try {
      const parsed = JSON.parse(await readFile(this.file, "utf8")) as { format?: number; entries?: Record<string, Entry> };
      if (parsed.format === FORMAT && parsed.entries !== undefined) {
        this.#entries = new Map(Object.entries(parsed.entries));
      }
    } catch {
      // A missing or unreadable cache only costs a re-hash.
    }
  }

  async digest(absPath: string, stat: Stats): Promise<string> {
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
      return entry[6];
    }
    this.misses++;
    const hashedAt = Date.now();
    const digest = await sha256File(absPath);
    this.#entries.set(absPath, [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.mode, hashedAt, digest]);
    this.#dirty = true;
    return digest;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(tmp, JSON.stringify({ format: FORMAT, entries: Object.fromEntries(this.#entries) }));
      await rename(tmp, this.file);
    } catch {
      // The cache is an optimisation: failing to save it (full disk) must not fail the run.
    }
  }
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}
