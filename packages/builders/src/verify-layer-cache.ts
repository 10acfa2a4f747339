import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { sha256File } from "@makes/core";
import { layerBlobsDir, layerCacheDir } from "./oci/layer-cache.js";
import { layerRecords } from "./oci/layer-records.js";

/**
 * The layer cache's share of `makes verify`: every cached blob is named by its sha256, so each is read and
 * compared with its name. A blob changed by hand would otherwise be reused by every later image (a layer
 * key that is cached is not read again), and image layouts hardlink the same file.
 */
export async function verifyLayerCache(storeDir: string): Promise<{ checked: number; modified: string[] }> {
  const blobsDir = layerBlobsDir(layerCacheDir(storeDir));
  const modified: string[] = [];
  let checked = 0;
  for (const name of (await readdir(blobsDir).catch(() => [] as string[])).sort()) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    checked++;
    const path = join(blobsDir, name);
    if ((await sha256File(path).catch(() => "")) !== name) modified.push(path);
  }
  return { checked, modified };
}

/** `makes verify --repair`: the layer records that name a modified blob go first, then the blob; the next image build writes the layer again. */
export async function repairLayerCache(storeDir: string, modified: readonly string[]): Promise<void> {
  const bad = new Set(modified.map((path) => `sha256:${path.split("/").pop() ?? ""}`));
  for (const record of await layerRecords(layerCacheDir(storeDir))) {
    if (record.digest !== undefined && bad.has(record.digest)) await rm(record.path, { force: true });
  }
  for (const path of modified) await rm(path, { force: true });
}
