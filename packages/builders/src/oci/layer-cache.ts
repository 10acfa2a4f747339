import { createHash, randomBytes } from "node:crypto";
import { readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { storeErrorFrom, writeFileAtomic, makeDirs } from "@makes/core";
import type { LayerPackage } from "./layer-package.js";
import { usrMergeActions } from "./merged-usr-moves.js";
import { DEFAULT_GZIP_LEVEL, DEFAULT_LAYER_MTIME, writeLayer, type LayerBlob } from "./write-layer.js";

/** The layer cache of the store at `storeRoot` (its blobs are shared by every image of that store). */
export function layerCacheDir(storeRoot: string): string {
  return join(storeRoot, "oci-cache");
}

/** Where a layer cache keeps its blobs, each named by its sha256. */
export function layerBlobsDir(cacheDir: string): string {
  return join(cacheDir, "blobs", "sha256");
}

/** Bump when anything in how a layer tar or its compression is produced changes: old entries then miss. */
export const LAYER_FORMAT_VERSION = "makes-oci-layer-v1";

export interface LayerCacheOptions {
  mtime?: number;
  gzipLevel?: number;
}

/**
 * A content cache of layer blobs under `cacheDir`:
 *   blobs/sha256/<hex>   the gzip blobs, shared by every image (hardlinked into image layouts)
 *   layers/<key>.json    layer key → { diffId, digest, size, mediaType, warnings }
 *   tmp/                 blobs being written (renamed into blobs/ when complete)
 * The key is sha256 over the format version, the tar/compression options, the ids (and recorded content
 * digests) of the packages in the layer in order and what merged /usr changes in them (keyOf), so a layer whose
 * packages did not change is reused without reading a file of it.
 * Every write is a temp file + rename: a crash never leaves an entry that looks valid.
 */
export class LayerCache {
  hits = 0;
  misses = 0;
  readonly mtime: number;
  readonly gzipLevel: number;

  constructor(readonly cacheDir: string, options: LayerCacheOptions = {}) {
    this.mtime = options.mtime ?? DEFAULT_LAYER_MTIME;
    this.gzipLevel = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
  }

  /**
   * `mergedUsr`: the image's merged-/usr names. They change the tar only of a package with a real `bin/` (or
   * `lib/`, …) to move under usr/ or a file there to leave out, so only those actions are in the key: a layer
   * that they do not change keeps its key (and its cached blob) whatever the image around it.
   */
  async keyOf(packages: readonly LayerPackage[], mergedUsr: readonly string[] = []): Promise<string> {
    const actions = await Promise.all(packages.map((p) => usrMergeActions(p.dir, mergedUsr)));
    const usrMerge = actions.some((a) => a.length > 0) ? actions.map((list) => list.map((a) => `${a.action}:${a.name}`)) : undefined;
    const material = JSON.stringify({
      version: LAYER_FORMAT_VERSION,
      mtime: this.mtime,
      compression: "gzip",
      level: this.gzipLevel,
      packages: packages.map((p) => (p.contentDigest === undefined ? p.id : `${p.id}:${p.contentDigest}`)),
      ...(usrMerge === undefined ? {} : { usrMerge }),
    });
    return createHash("sha256").update(material).digest("hex");
  }

  blobPath(digest: string): string {
    return join(layerBlobsDir(this.cacheDir), digest.replace(/^sha256:/, ""));
  }

  /** The layer of `packages`, from the cache when its key and blob are there, else written and recorded. */
  async layer(
    packages: readonly LayerPackage[],
    options: { onWarning?: (message: string) => void; signal?: AbortSignal; mergedUsr?: readonly string[] } = {},
  ): Promise<LayerBlob> {
    const key = await this.keyOf(packages, options.mergedUsr);
    const recordPath = join(this.cacheDir, "layers", `${key}.json`);
    const cached = await this.read(recordPath);
    if (cached !== undefined) {
      this.hits += 1;
      for (const w of cached.warnings) options.onWarning?.(w);
      return cached;
    }
    this.misses += 1;
    const tmpDir = join(this.cacheDir, "tmp");
    await Promise.all([makeDirs(tmpDir), makeDirs(layerBlobsDir(this.cacheDir)), makeDirs(join(this.cacheDir, "layers"))]);
    const tmp = join(tmpDir, `layer-${randomBytes(8).toString("hex")}`);
    try {
      const blob = await writeLayer(packages, tmp, { mtime: this.mtime, gzipLevel: this.gzipLevel, ...options });
      await rename(tmp, this.blobPath(blob.digest)); // same content if another writer won the race
      await writeFileAtomic(recordPath, JSON.stringify(blob));
      return blob;
    } catch (err) {
      // only a full disk is the store's problem here; EACCES may be an unreadable package file, left as it is
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      if (code === "ENOSPC" || code === "EDQUOT") throw storeErrorFrom(err, `writing the image layer of ${packages.map((p) => p.name).join(", ")}`);
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async read(recordPath: string): Promise<LayerBlob | undefined> {
    try {
      const record = JSON.parse(await readFile(recordPath, "utf8")) as LayerBlob;
      const info = await stat(this.blobPath(record.digest));
      return info.size === record.size ? record : undefined;
    } catch {
      return undefined; // missing or torn entry: rebuild it
    }
  }
}
