import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "@makes/core";
import type { BaseImage, BaseLayer, Descriptor } from "./base-image.js";
import { extractArchive } from "./extract-archive.js";
import { MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_TAR, MEDIA_TYPE_MANIFEST } from "./oci-media-types.js";

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

/**
 * Reads a base image (fromImage) from an OCI layout directory, an oci-archive or a docker-archive tar (skopeo's
 * or Docker's, including the dual shape writeImage produces). Archives are extracted under `workDir`, which must
 * outlive the use of the returned blob paths. With several images in an OCI index, `tag` picks one by its
 * `org.opencontainers.image.ref.name`. Layers of a docker-archive are kept as they are: an uncompressed one
 * becomes `…layer.v1.tar` with digest = diff_id.
 */
export async function readBaseImage(source: string, workDir: string, tag?: string): Promise<BaseImage> {
  let dir = source;
  const info = await stat(source).catch(() => undefined);
  if (info === undefined) throw bad(source, "does not exist");
  if (!info.isDirectory()) {
    dir = join(workDir, "base-image");
    await extractArchive(source, dir);
  }
  if (await exists(join(dir, "index.json"))) return readLayout(dir, source, tag);
  if (await exists(join(dir, "manifest.json"))) return readDockerArchive(dir, source);
  throw bad(source, "is neither an OCI layout (index.json) nor a docker-archive (manifest.json)");
}

async function readLayout(dir: string, source: string, tag: string | undefined): Promise<BaseImage> {
  const index = (await readJson(join(dir, "index.json"), source)) as { manifests?: (Descriptor & { annotations?: Record<string, string> })[] };
  const manifests = index.manifests ?? [];
  const chosen = tag === undefined
    ? manifests.length === 1 ? manifests[0] : undefined
    : manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  if (chosen === undefined) {
    throw bad(source, tag === undefined ? `has ${manifests.length} images; name one with a tag` : `has no image tagged ${tag}`);
  }
  if (chosen.mediaType !== MEDIA_TYPE_MANIFEST && chosen.mediaType !== DOCKER_MANIFEST) {
    throw bad(source, `points at a ${chosen.mediaType}, not an image manifest (multi-platform indexes are not supported; copy one platform with skopeo)`);
  }
  const blob = (digest: string): string => join(dir, "blobs", ...digest.split(":"));
  const manifest = (await readJson(blob(chosen.digest), source)) as { config: Descriptor; layers: Descriptor[] };
  const config = (await readJson(blob(manifest.config.digest), source)) as Record<string, unknown>;
  const diffIds = diffIdsOf(config, manifest.layers.length, source);
  const layers: BaseLayer[] = manifest.layers.map((d, i) => ({
    descriptor: { mediaType: ociLayerType(d.mediaType), digest: d.digest, size: d.size },
    diffId: diffIds[i] as string,
    blobPath: blob(d.digest),
  }));
  for (const layer of layers) {
    if (!(await exists(layer.blobPath))) throw bad(source, `lacks the layer blob ${layer.descriptor.digest}`);
  }
  return { layers, config };
}

async function readDockerArchive(dir: string, source: string): Promise<BaseImage> {
  const items = (await readJson(join(dir, "manifest.json"), source)) as { Config: string; Layers: string[] }[];
  const item = items[0];
  if (items.length !== 1 || item === undefined) throw bad(source, `holds ${items.length} images; a base must be one`);
  const config = (await readJson(join(dir, item.Config), source)) as Record<string, unknown>;
  const diffIds = diffIdsOf(config, item.Layers.length, source);
  const layers = await Promise.all(
    item.Layers.map(async (path, i): Promise<BaseLayer> => {
      const blobPath = join(dir, path);
      const { digest, size, gzip } = await describeFile(blobPath);
      return { descriptor: { mediaType: gzip ? MEDIA_TYPE_LAYER_GZIP : MEDIA_TYPE_LAYER_TAR, digest, size }, diffId: diffIds[i] as string, blobPath };
    }),
  );
  return { layers, config };
}

function diffIdsOf(config: Record<string, unknown>, count: number, source: string): string[] {
  const rootfs = config["rootfs"] as { diff_ids?: unknown } | undefined;
  const ids = Array.isArray(rootfs?.diff_ids) ? rootfs.diff_ids : [];
  if (ids.length !== count || !ids.every((d) => typeof d === "string" && /^sha256:[0-9a-f]{64}$/.test(d))) {
    throw bad(source, `has ${count} layers but its config lists ${ids.length} valid diff_ids`);
  }
  return ids as string[];
}

/** Docker's layer media types in their OCI equivalents (media-types.md compatibility matrix). */
function ociLayerType(mediaType: string): string {
  if (mediaType === "application/vnd.docker.image.rootfs.diff.tar.gzip") return MEDIA_TYPE_LAYER_GZIP;
  if (mediaType === "application/vnd.docker.image.rootfs.diff.tar") return MEDIA_TYPE_LAYER_TAR;
  return mediaType;
}

async function describeFile(path: string): Promise<{ digest: string; size: number; gzip: boolean }> {
  const handle = await open(path, "r");
  const magic = Buffer.alloc(2);
  try {
    await handle.read(magic, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, size, gzip: magic[0] === 0x1f && magic[1] === 0x8b };
}

async function readJson(path: string, source: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw bad(source, `has an unreadable ${path.slice(path.lastIndexOf("/") + 1)} (${(err as Error).message})`);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

function bad(source: string, what: string): ConfigError {
  return new ConfigError("bad-argument", `makeContainerImage: fromImage ${source} ${what}`);
}
