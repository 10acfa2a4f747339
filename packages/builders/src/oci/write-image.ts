import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BaseImage, Descriptor } from "./base-image.js";
import { baseMergedUsrLinks } from "./base-merged-usr.js";
import { canonicalJson } from "./canonical-json.js";
import type { ImageOptions } from "./image-options.js";
import { LayerCache } from "./layer-cache.js";
import type { LayerPackage } from "./layer-package.js";
import { linkOrCopy } from "./link-or-copy.js";
import { mapConcurrent } from "./map-concurrent.js";
import { mergeImageConfig } from "./merge-image-config.js";
import { imageMergedUsrLinks } from "./merged-usr-moves.js";
import { shadowedAcrossLayers } from "./shadowed-across-layers.js";
import { MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST } from "./oci-media-types.js";
import { makeDirs } from "@makes/core";

export interface WriteImageArgs {
  /** The planned layers (planLayers), bottom first; each is one or more packages merged at `/`. */
  layers: readonly (readonly LayerPackage[])[];
  options: ImageOptions;
  /** Created if missing; receives the image layout. */
  outDir: string;
  /** The shared layer cache directory (LayerCache). */
  cacheDir: string;
  /** How many layers are tarred and compressed at once. */
  concurrency: number;
  onWarning: (message: string) => void;
  signal?: AbortSignal;
  /** fromImage: its layers go first, unchanged, and its config is inherited. */
  base?: BaseImage;
  /** The packages in the planned order (dependencyOrder), when some share a layer: files hidden against it are named (shadowedAcrossLayers). */
  order?: readonly LayerPackage[];
}

export interface WrittenImage {
  manifestDigest: string;
  configDigest: string;
  layerCache: { hits: number; misses: number };
}

const HISTORY_AUTHOR = "makes";

/**
 * Writes `outDir` as an OCI image layout (oci-layout, index.json, blobs/sha256) that is at the same time a
 * docker-archive (manifest.json with RepoTags), the shape Docker ≥ 25 `docker save` writes.
 * Config, manifest and index are canonical JSON (sorted keys, compact) written once.
 */
export async function writeImage(args: WriteImageArgs): Promise<WrittenImage> {
  const { options, outDir } = args;
  const blobsDir = join(outDir, "blobs", "sha256");
  await makeDirs(blobsDir);
  const cache = new LayerCache(args.cacheDir);
  // Merged /usr is a property of the whole root: a package's bin/ must go under usr/bin/ when any other
  // layer (or the base image) makes /bin a symlink, whichever layer the package is in.
  const baseLinks = args.base === undefined ? [] : await baseMergedUsrLinks(args.base.layers, args.cacheDir);
  const mergedUsr = await imageMergedUsrLinks(args.layers.flat(), baseLinks);
  if (args.order !== undefined && args.layers.some((l) => l.length > 1)) {
    for (const warning of await shadowedAcrossLayers(args.layers, args.order, mergedUsr)) args.onWarning(warning);
  }

  const built = await mapConcurrent(args.layers, args.concurrency, async (packages) => {
    const blob = await cache.layer(packages, { onWarning: args.onWarning, signal: args.signal, mergedUsr });
    await linkOrCopy(cache.blobPath(blob.digest), join(blobsDir, hexOf(blob.digest)));
    return blob;
  });
  const baseLayers = args.base?.layers ?? [];
  for (const layer of baseLayers) await linkOrCopy(layer.blobPath, join(blobsDir, hexOf(layer.descriptor.digest)));

  const baseConfig = args.base?.config;
  const history = [
    ...baseHistory(baseConfig, baseLayers.length, options.created),
    ...args.layers.map((packages) => ({
      created: options.created,
      created_by: HISTORY_AUTHOR,
      comment: `store paths: ${packages.map((p) => p.name).join(", ")}`,
    })),
  ];
  const inheritedConfig = baseConfig?.["config"];
  const config = {
    ...(baseConfig ?? {}),
    architecture: options.architecture,
    os: options.os,
    created: options.created,
    config: mergeImageConfig(isRecord(inheritedConfig) ? inheritedConfig : undefined, options.config),
    rootfs: { type: "layers", diff_ids: [...baseLayers.map((l) => l.diffId), ...built.map((b) => b.diffId)] },
    history,
  };
  delete (config as Record<string, unknown>)["variant"]; // a base's variant may not match the new architecture
  const configDesc = await writeBlob(blobsDir, MEDIA_TYPE_CONFIG, canonicalJson(config));

  const layerDescs: Descriptor[] = [
    ...baseLayers.map((l) => ({ mediaType: l.descriptor.mediaType, digest: l.descriptor.digest, size: l.descriptor.size })),
    ...built.map((b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size })),
  ];
  const manifest = { schemaVersion: 2, mediaType: MEDIA_TYPE_MANIFEST, config: configDesc, layers: layerDescs };
  const manifestDesc = await writeBlob(blobsDir, MEDIA_TYPE_MANIFEST, canonicalJson(manifest));

  const reference = `${options.name}:${options.tag}`;
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_INDEX,
    manifests: [
      {
        ...manifestDesc,
        platform: { architecture: options.architecture, os: options.os },
        annotations: { "io.containerd.image.name": reference, "org.opencontainers.image.ref.name": options.tag },
      },
    ],
  };
  const dockerManifest = [
    {
      Config: `blobs/sha256/${hexOf(configDesc.digest)}`,
      RepoTags: [reference],
      Layers: layerDescs.map((d) => `blobs/sha256/${hexOf(d.digest)}`),
    },
  ];
  await Promise.all([
    writeFile(join(outDir, "oci-layout"), canonicalJson({ imageLayoutVersion: "1.0.0" })),
    writeFile(join(outDir, "index.json"), canonicalJson(index)),
    writeFile(join(outDir, "manifest.json"), canonicalJson(dockerManifest)),
  ]);
  return { manifestDigest: manifestDesc.digest, configDigest: configDesc.digest, layerCache: { hits: cache.hits, misses: cache.misses } };
}

/** The base's history, or one entry per base layer when it has none that matches its layers (umoci stat needs it). */
function baseHistory(baseConfig: Record<string, unknown> | undefined, layerCount: number, created: string): unknown[] {
  const history = baseConfig?.["history"];
  if (Array.isArray(history)) {
    const nonEmpty = history.filter((h) => !(isRecord(h) && h["empty_layer"] === true)).length;
    if (nonEmpty === layerCount) return history as unknown[];
  }
  return Array.from({ length: layerCount }, () => ({ created, created_by: `${HISTORY_AUTHOR} (fromImage)` }));
}

async function writeBlob(blobsDir: string, mediaType: string, text: string): Promise<Descriptor> {
  const bytes = Buffer.from(text, "utf8");
  const hex = createHash("sha256").update(bytes).digest("hex");
  await writeFile(join(blobsDir, hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, "");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
