import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { layerBlobsDir, layerCacheDir } from "./oci/layer-cache.js";
import { layerRecords } from "./oci/layer-records.js";

/** A blob younger than this may belong to an image being built right now (written, not yet linked). */
const YOUNG_BLOB_MS = 10 * 60_000;

export interface PrunedLayers {
  readonly blobs: number;
  readonly bytes: number;
  readonly records: number;
}

/**
 * The layer cache's share of `makes gc`: a cached blob that no image output hardlinks any more (link
 * count 1) is removed, unless it is young enough to belong to a build in progress; then every layer
 * record whose blob is gone is removed (it would miss anyway). Run after the store paths are collected.
 */
export async function pruneLayerCache(storeDir: string, options: { dryRun?: boolean } = {}): Promise<PrunedLayers> {
  const cacheDir = layerCacheDir(storeDir);
  const blobsDir = layerBlobsDir(cacheDir);
  let blobs = 0;
  let bytes = 0;
  const gone = new Set<string>();
  const now = Date.now();
  for (const name of await readdir(blobsDir).catch(() => [] as string[])) {
    const st = await lstat(join(blobsDir, name)).catch(() => undefined);
    if (st === undefined || !st.isFile() || st.nlink > 1) continue;
    const normalised = st.mtimeMs <= 1000; // was in a store output (whose mtimes are fixed), now gone
    if (!normalised && now - st.mtimeMs < YOUNG_BLOB_MS) continue;
    blobs++;
    bytes += st.size;
    gone.add(`sha256:${name}`);
    if (!options.dryRun) await rm(join(blobsDir, name), { force: true });
  }
  let records = 0;
  for (const record of await layerRecords(cacheDir)) {
    if (record.digest !== undefined && !gone.has(record.digest)) continue;
    records++;
    if (!options.dryRun) await rm(record.path, { force: true });
  }
  return { blobs, bytes, records };
}
