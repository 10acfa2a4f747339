import { createHash } from "node:crypto";
import { constants, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import tar from "tar-stream";
import { BuildError } from "@makes/core";
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

const READ_CHUNK = 1024 * 1024;
const STREAM_BUFFER = 4 * 1024 * 1024;
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

  const tarBytes = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of pack) {
      const buf = chunk as Buffer; // tar-stream pushes Buffers; streamx types chunks as unknown
      diffHash.update(buf);
      yield buf;
    }
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
  const emitted = walkMergedTree(packages, (entry) => writeEntry(pack, entry, mtime), onWarning, options.signal).then(
    () => pack.finalize(),
    (err: unknown) => {
      pack.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    },
  );
  const [walkResult, pipeResult] = await Promise.allSettled([emitted, written]);
  if (walkResult.status === "rejected") throw walkResult.reason;
  if (pipeResult.status === "rejected") throw pipeResult.reason;
  return {
    diffId: `sha256:${diffHash.digest("hex")}`,
    digest: `sha256:${digestHash.digest("hex")}`,
    size,
    mediaType: MEDIA_TYPE_LAYER_GZIP,
    warnings,
  };
}

function needsPax(text: string): boolean {
  return !/^[\x20-\x7e]*$/.test(text);
}

async function writeEntry(pack: tar.Pack, entry: TreeEntry, mtime: Date): Promise<void> {
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
      if (!sink.write(bytesRead === want ? buffer : buffer.subarray(0, bytesRead))) await once(sink, "drain");
    }
    sink.end(undefined); // streamx types `end` with a required chunk; undefined means none
    await done;
  } finally {
    await handle.close();
  }
}
