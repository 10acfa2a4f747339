import { createHash } from "node:crypto";
import { constants, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import tar from "tar-stream";
import { BuildError, MakesError } from "@makes/core";
import type { LayerPackage } from "./layer-package.js";
import { walkMergedTree, type TreeEntry } from "./merged-tree-walk.js";

import { MEDIA_TYPE_LAYER_GZIP } from "./oci-media-types.js";
/** Seconds since 1970 of every tar entry: 1970-01-01T00:00:01Z, as dockerTools, nix2container and Jib. */
export const DEFAULT_LAYER_MTIME = 1;
export const DEFAULT_GZIP_LEVEL = 6;

export interface WriteLayerOptions {
  /** mtime of every entry, in seconds since 1970. */
  mtime?: number;
  gzipLevel?: number;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** The image's merged-/usr names (imageMergedUsrLinks): entries under them are written under usr/ (walkMergedTree). */
  mergedUsr?: readonly string[];
}

export interface LayerBlob {
  /** sha256:<hex> of the uncompressed tar: the layer's identity. */
  diffId: string;
  /** sha256:<hex> of the gzip blob as written. */
  digest: string;
  size: number;
  mediaType: string;
  /** The merge warnings, also given to onWarning (kept so a cached layer can repeat them). */
  warnings: string[];
}

type TarSink = ReturnType<tar.Pack["entry"]>;

const READ_CHUNK = 256 * 1024;
const STREAM_BUFFER = 1024 * 1024;
const COALESCE = 256 * 1024;
/** Files up to this size are read whole, ahead of their turn, so many small files do not cost a round trip each. */
const SMALL_FILE = 256 * 1024;
/** Bounds of the read-ahead: entries and bytes waiting to be written (keeps peak memory bounded). */
const PREFETCH_ENTRIES = 32;
const PREFETCH_BYTES = 4 * 1024 * 1024;
/** Largest size a ustar header holds in octal; beyond it a PAX `size` record is written as well. */
const USTAR_MAX_SIZE = 8 * 1024 ** 3 - 1;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const GZIP_OS_UNIX = 3;

/**
 * Writes one gzip layer of `packages` merged at `/` to `outFile` (created, must not exist) in one pass over the
 * files: tar-stream → sha256 (diff_id) → zlib gzip (in the libuv threadpool, so several layers compress at
 * once) → sha256 (digest) → file. Memory stays bounded by the stream buffers, whatever the file sizes.
 * Entry rules: see walkMergedTree; uid/gid 0, empty uname/gname, fixed mtime, full 12 mode bits, symlinks 0777,
 * PAX headers for long or non-ASCII names and link targets and for sizes of 8 GiB and more.
 * The gzip header has no name, mtime 0 and OS byte 3 (Unix) whatever the host.
 */
export async function writeLayer(packages: readonly LayerPackage[], outFile: string, options: WriteLayerOptions = {}): Promise<LayerBlob> {
  const mtime = new Date((options.mtime ?? DEFAULT_LAYER_MTIME) * 1000);
  const warnings: string[] = [];
  const onWarning = (message: string): void => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  const pack = tar.pack({ highWaterMark: STREAM_BUFFER });
  const diffHash = createHash("sha256");
  const digestHash = createHash("sha256");
  let size = 0;

  // tar-stream pushes many small buffers (512-byte headers, small files, padding); each write to an async zlib
  // stream is one threadpool round trip, so they are coalesced into chunks of COALESCE bytes first
  const tarBytes = async function* (): AsyncGenerator<Buffer> {
    let parts: Buffer[] = [];
    let length = 0;
    for await (const chunk of pack) {
      const buf = chunk as Buffer; // tar-stream pushes Buffers; streamx types chunks as unknown
      diffHash.update(buf);
      parts.push(buf);
      length += buf.length;
      if (length >= COALESCE) {
        yield parts.length === 1 ? buf : Buffer.concat(parts, length);
        parts = [];
        length = 0;
      }
    }
    if (length > 0) yield Buffer.concat(parts, length);
  };
  const gzipBytes = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const buf of source) {
      if (size <= 9 && size + buf.length > 9) buf[9 - size] = GZIP_OS_UNIX; // header byte 9: no CRC covers it
      size += buf.length;
      digestHash.update(buf);
      yield buf;
    }
  };
  const written = pipeline(
    tarBytes,
    createGzip({ level: options.gzipLevel ?? DEFAULT_GZIP_LEVEL, chunkSize: 256 * 1024 }),
    gzipBytes,
    createWriteStream(outFile, { flags: "wx", highWaterMark: STREAM_BUFFER }),
  );
  const writer = new PrefetchingWriter(pack, mtime);
  const emitted = walkMergedTree(packages, (entry) => writer.add(entry), onWarning, options.signal, options.mergedUsr)
    .then(() => writer.flush())
    .then(
      () => pack.finalize(),
      (err: unknown) => {
        pack.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      },
    );
  const [walkResult, pipeResult] = await Promise.allSettled([emitted, written]);
  // the root cause first: a walk error (bad package) destroys the pipeline with that same error, while an output
  // error (disk full, existing file) makes the walk fail only with tar-stream's "destroyed"
  if (walkResult.status === "rejected" && (walkResult.reason instanceof MakesError || pipeResult.status === "fulfilled")) throw walkResult.reason;
  if (pipeResult.status === "rejected") throw pipeResult.reason;
  if (walkResult.status === "rejected") throw walkResult.reason;
  return {
    diffId: `sha256:${diffHash.digest("hex")}`,
    digest: `sha256:${digestHash.digest("hex")}`,
    size,
    mediaType: MEDIA_TYPE_LAYER_GZIP,
    warnings,
  };
}

type Prepared = { entry: TreeEntry; content?: Buffer };

/**
 * Keeps the tar order of the walk while reading small files ahead (several reads in flight in the threadpool):
 * entries are queued in walk order with their read already started, and written one by one from the head.
 */
class PrefetchingWriter {
  private readonly queue: Promise<Prepared>[] = [];
  private queuedBytes = 0;

  constructor(private readonly pack: tar.Pack, private readonly mtime: Date) {}

  async add(entry: TreeEntry): Promise<void> {
    const small = entry.kind === "file" && entry.size <= SMALL_FILE;
    if (small) this.queuedBytes += entry.size;
    const prepared = small ? readSmall(entry).then((content) => ({ entry, content })) : Promise.resolve({ entry });
    prepared.catch(() => undefined); // rejections are raised when the entry's turn comes
    this.queue.push(prepared);
    while (this.queue.length >= PREFETCH_ENTRIES || this.queuedBytes >= PREFETCH_BYTES) await this.writeOne();
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0) await this.writeOne();
  }

  private async writeOne(): Promise<void> {
    const next = this.queue.shift();
    if (next === undefined) return;
    const { entry, content } = await next;
    if (content !== undefined) this.queuedBytes -= content.length;
    await writeEntry(this.pack, entry, this.mtime, content);
  }
}

async function readSmall(entry: Extract<TreeEntry, { kind: "file" }>): Promise<Buffer> {
  const handle = await open(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buffer = Buffer.allocUnsafe(entry.size);
    let position = 0;
    while (position < entry.size) {
      const { bytesRead } = await handle.read(buffer, position, entry.size - position, position);
      if (bytesRead === 0) throw new BuildError("bad-output", `${entry.path} shrank while it was being written into an image layer`);
      position += bytesRead;
    }
    return buffer;
  } finally {
    await handle.close();
  }
}

function needsPax(text: string): boolean {
  return !/^[\x20-\x7e]*$/.test(text);
}

async function writeEntry(pack: tar.Pack, entry: TreeEntry, mtime: Date, content?: Buffer): Promise<void> {
  const base = { uid: 0, gid: 0, uname: "", gname: "", mtime };
  switch (entry.kind) {
    case "directory":
      // tar-stream replaces a mode of 0 by its default, so the type bits keep the value non-zero; it masks 07777
      return voidEntry(pack, { ...base, name: `${entry.name}/`, type: "directory", mode: S_IFDIR | entry.mode });
    case "symlink":
      return voidEntry(pack, { ...base, name: entry.name, type: "symlink", mode: 0o777, linkname: entry.target, ...forcePax(entry.target) });
    case "hardlink":
      return voidEntry(pack, { ...base, name: entry.name, type: "link", mode: S_IFREG | entry.mode, linkname: entry.target, ...forcePax(entry.target) });
    case "file":
      if (content !== undefined) {
        return new Promise((resolve, reject) => {
          pack.entry({ ...base, name: entry.name, type: "file", mode: S_IFREG | entry.mode, size: entry.size }, content, (err) => (err ? reject(err) : resolve()));
        });
      }
      return fileEntry(pack, entry, base);
  }
}

/** tar-stream only switches to PAX for long or non-ASCII names, not for a non-ASCII link target. */
function forcePax(linkname: string): { pax?: Record<string, string> } {
  return needsPax(linkname) ? { pax: {} } : {};
}

function voidEntry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

async function fileEntry(
  pack: tar.Pack,
  entry: Extract<TreeEntry, { kind: "file" }>,
  base: { uid: number; gid: number; uname: string; gname: string; mtime: Date },
): Promise<void> {
  // O_NOFOLLOW: the walk saw a regular file; if it became a symlink since, fail instead of reading outside
  const handle = await open(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let done!: Promise<void>;
    const sink = await new Promise<TarSink>((resolveSink) => {
      done = new Promise<void>((resolve, reject) => {
        resolveSink(
          pack.entry(
            {
              ...base,
              name: entry.name,
              type: "file",
              mode: S_IFREG | entry.mode,
              size: entry.size,
              ...(entry.size > USTAR_MAX_SIZE ? { pax: { size: String(entry.size) } } : {}),
            },
            (err) => (err ? reject(err) : resolve()),
          ),
        );
      });
    });
    // When the pack is destroyed (the output failed: disk full, an existing file) the entry's sink emits
    // 'error' and the entry callback rejects `done`; the failure is thrown from here once, by awaiting
    // `done`, so neither may also become an uncaught exception or rejection.
    sink.on("error", () => undefined);
    done.catch(() => undefined);
    let position = 0;
    while (position < entry.size) {
      const want = Math.min(READ_CHUNK, entry.size - position);
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(want), 0, want, position);
      if (bytesRead === 0) {
        const err = new BuildError("bad-output", `${entry.path} shrank while it was being written into an image layer`);
        sink.destroy(err);
        throw err;
      }
      position += bytesRead;
      if (!sink.write(bytesRead === want ? buffer : buffer.subarray(0, bytesRead))) {
        // A sink destroyed meanwhile never drains: `done` (rejected by then) ends the wait instead.
        await Promise.race([done, once(sink, "drain").then(() => undefined, () => undefined)]);
      }
    }
    sink.end(undefined); // streamx types `end` with a required chunk; undefined means none
    await done;
  } finally {
    await handle.close();
  }
}
