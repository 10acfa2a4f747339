import { createHash } from "node:crypto";
import { closeSync, createWriteStream, fchmodSync, openSync, symlinkSync, writeSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BuildError } from "./errors.js";
import { makeDirs } from "./make-dirs.js";
import { readSmallFile, streamOf, takeTurnIfDue, type SmallRead } from "./read-file-chunks.js";

/** One file of a source tree as hashed: modes are normalised the way git records them. */
export interface SourceEntry {
  readonly path: string;
  readonly type: "file" | "symlink";
  /** 0o755 or 0o644 for files (only the owner's execute bit counts), 0o777 for symlinks. */
  readonly mode: number;
  /** sha256 of the content, or the symlink target. */
  readonly value: string;
}

/**
 * Copies `entries` from `root` into a new directory `out`, checking each file's bytes against the digest it was
 * hashed with: a file edited or deleted since is a BuildError, never a tree whose content and hash disagree.
 * Nothing is written through a symlink: the listing leaves out paths under one, and files are opened "wx".
 */
export async function copySourceTree(root: string, out: string, entries: readonly SourceEntry[], label: string, signal?: AbortSignal): Promise<void> {
  const changed = (path: string): BuildError =>
    new BuildError("bad-output", `${label}: ${path} changed while it was being copied into the store; run again`);
  await makeDirs(out);
  const links = new Set<string>();
  const dirs = new Set<string>([out]);
  for (const entry of entries) {
    for (let end = entry.path.lastIndexOf("/"); end > 0; end = entry.path.lastIndexOf("/", end - 1)) {
      if (links.has(entry.path.slice(0, end))) throw new Error(`internal: ${label}: ${entry.path} is under the symlink ${entry.path.slice(0, end)}`);
    }
    const dest = join(out, entry.path);
    const dir = dirname(dest);
    if (!dirs.has(dir)) {
      await makeDirs(dir);
      dirs.add(dir);
    }
    if (entry.type === "symlink") {
      symlinkSync(entry.value, dest);
      links.add(entry.path);
      continue;
    }
    const source = join(root, entry.path);
    let read: SmallRead;
    try {
      // Not through a symlink: a path that became a link since it was hashed is a change.
      read = readSmallFile(source, true);
    } catch (err) {
      if (isReplaced(err)) throw changed(entry.path);
      throw err;
    }
    if (read.kind === "not-a-file") throw changed(entry.path);
    if (read.kind === "large") {
      await streamFile(source, read, dest, entry, changed);
    } else {
      if (createHash("sha256").update(read.bytes).digest("hex") !== entry.value) throw changed(entry.path);
      const fd = openSync(dest, "wx", entry.mode);
      try {
        writeAll(fd, read.bytes);
        fchmodSync(fd, entry.mode);
      } finally {
        closeSync(fd);
      }
    }
    await takeTurnIfDue();
    // A big tree takes seconds: Ctrl-C stops the copy between files, not after the last one.
    signal?.throwIfAborted();
  }
}

async function streamFile(source: string, read: { readonly fd: number }, dest: string, entry: SourceEntry, changed: (path: string) => BuildError): Promise<void> {
  const hash = createHash("sha256");
  try {
    await pipeline(
      streamOf(source, read),
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
      createWriteStream(dest, { mode: entry.mode, flags: "wx" }),
    );
  } catch (err) {
    if (isReplaced(err)) throw changed(entry.path);
    throw err;
  }
  await chmod(dest, entry.mode);
  if (hash.digest("hex") !== entry.value) throw changed(entry.path);
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** The source path no longer names the file it named when hashed: deleted, a parent replaced, now a symlink. */
function isReplaced(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP";
}
