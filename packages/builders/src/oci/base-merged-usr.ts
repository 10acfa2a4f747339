import { createReadStream } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { BuildError, writeFileAtomic, makeDirs } from "@makes/core";
import { isMergedUsrLink, MERGEABLE } from "../debian/merged-usr-links.js";
import type { BaseLayer } from "./base-image.js";

/**
 * What one layer does to the top-level merged-/usr names: makes one the link, something else, or removes it
 * (a whiteout); `opaque` (a `.wh..wh..opq` at the root) hides everything of the layers below.
 */
interface TopLevel {
  names: Record<string, "link" | "other" | "removed">;
  opaque: boolean;
}

/**
 * The merged-/usr names (bin, lib, …) that a base image's root has as top-level symlinks to `usr/<name>`, as
 * its layers leave them bottom to top (whiteouts included), so the new layers above it keep those links
 * (see walkMergedTree). Each layer is read once per store: what it does is kept under
 * `<cacheDir>/base-usr/<diff_id hex>.json` (a diff_id names the layer's content).
 */
export async function baseMergedUsrLinks(layers: readonly BaseLayer[], cacheDir: string): Promise<string[]> {
  const state = new Map<string, "link" | "other">();
  for (const layer of layers) {
    const top = await topLevelOf(layer, cacheDir);
    if (top.opaque) state.clear();
    for (const [name, what] of Object.entries(top.names)) {
      if (what === "removed") state.delete(name);
      else state.set(name, what);
    }
  }
  return [...state].filter(([, what]) => what === "link").map(([name]) => name).sort();
}

async function topLevelOf(layer: BaseLayer, cacheDir: string): Promise<TopLevel> {
  const record = join(cacheDir, "base-usr", `${layer.diffId.replace(/^sha256:/, "")}.json`);
  try {
    const cached = JSON.parse(await readFile(record, "utf8")) as Partial<TopLevel>;
    if (typeof cached.names === "object" && cached.names !== null && typeof cached.opaque === "boolean") return cached as TopLevel;
  } catch {
    // not read yet (or a torn record): read the layer
  }
  const found = await scanLayer(layer);
  // Only a cache: a record that cannot be written (a full disk) is read from the layer again next time.
  await makeDirs(join(cacheDir, "base-usr"))
    .then(() => writeFileAtomic(record, JSON.stringify(found)))
    .catch(() => undefined);
  return found;
}

async function scanLayer(layer: BaseLayer): Promise<TopLevel> {
  const found: TopLevel = { names: {}, opaque: false };
  const names: readonly string[] = MERGEABLE;
  const handle = await open(layer.blobPath, "r");
  const magic = Buffer.alloc(4);
  try {
    await handle.read(magic, 0, 4, 0);
  } finally {
    await handle.close();
  }
  const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
  // zstd (or anything else that is not a tar): its top level cannot be read here, so it changes nothing known
  if (!gzip && !layer.descriptor.mediaType.endsWith("tar") && !layer.descriptor.mediaType.endsWith(".tar")) return found;
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    const name = header.name.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
    if (name === ".wh..wh..opq") found.opaque = true;
    else if (name.startsWith(".wh.") && names.includes(name.slice(4))) found.names[name.slice(4)] = "removed";
    else if (names.includes(name)) found.names[name] = header.type === "symlink" && isMergedUsrLink(name, header.linkname ?? "") ? "link" : "other";
    stream.on("end", () => next());
    stream.resume();
  });
  const source = createReadStream(layer.blobPath);
  try {
    if (gzip) await pipeline(source, createGunzip(), extract as unknown as NodeJS.WritableStream);
    else await pipeline(source, extract as unknown as NodeJS.WritableStream);
  } catch (err) {
    throw new BuildError("bad-output", `fromImage layer ${layer.descriptor.digest} is not a readable ${gzip ? "gzip " : ""}tar (${(err as Error).message}); the base image is damaged: export it again`);
  }
  return found;
}
