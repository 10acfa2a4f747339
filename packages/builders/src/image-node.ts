import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, MakesNode, nodesIn as nodesInText, type BuildContext, type Fingerprint, type FingerprintContext } from "@makes/core";
import type { BaseImage } from "./oci/base-image.js";
import type { ImageOptions } from "./oci/image-options.js";
import type { LayerPackage } from "./oci/layer-package.js";
import { layerCacheDir } from "./oci/layer-cache.js";
import { dependencyOrder, planLayers } from "./oci/plan-layers.js";
import { validateImageOptions } from "./oci/validate-image-options.js";

export interface ImageSpec {
  /** The packages the user listed, in their order. */
  readonly layers: readonly MakesNode[];
  /** The raw option fields (maxLayers, config, name, tag, architecture, os, created), validated already once. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** fromImage: a node whose output is an image, or a string interpolating one (`${dir}/base.tar`). */
  readonly fromImage?: MakesNode | string | undefined;
  readonly fromImageTag?: string | undefined;
}

/**
 * Bump when what the image writer produces from the same inputs changes (layer planning, tar rules, JSON
 * shape): images are input-addressed, so without it a store would keep serving images made the old way.
 */
const IMAGE_FORMAT = "makes-image-3";

/** A docker reference name from a job name: `/packages/Web/image` → `packages/web/image`. */
export function imageNameFor(label: string): string {
  const parts = label
    .split("/")
    .map((p) => p.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, ""))
    .filter((p) => p !== "");
  return parts.length === 0 ? "image" : parts.join("/");
}

/**
 * An image as a layer package would put its OCI layout files (index.json, blobs/) at `/` of the new image:
 * never what was meant. Building on an image is what fromImage does.
 */
export function imageAsLayer(where: string, image: ImageNode): ConfigError {
  return new ConfigError(
    "bad-argument",
    `makeContainerImage: ${where} is ${typeof image.spec.raw["name"] === "string" ? `the image "${image.spec.raw["name"]}"` : "an image"} (a makeContainerImage), which cannot be a layer: its OCI layout files would land in the root; to build on top of it, pass it as fromImage instead`,
  );
}

/**
 * makeContainerImage's node. Its output is a store directory that is an OCI image layout and a
 * docker-archive at once. The packages in `layers` and their runtime dependencies are its deps; each
 * contributes its store contents at `/`. Layers are cached by the hashes of the store paths in them.
 */
export class ImageNode extends MakesNode {
  readonly kind = "image";
  #closure: MakesNode[] | undefined;
  #options: ImageOptions | undefined;

  constructor(readonly spec: ImageSpec, name: string) {
    super(name);
  }

  /** The layer packages with their runtime closure: the user's order first, then dependencies breadth-first. */
  packages(): MakesNode[] {
    if (this.#closure === undefined) {
      const seen: MakesNode[] = [];
      const queue = [...this.spec.layers];
      while (queue.length > 0) {
        const node = queue.shift();
        if (node === undefined || seen.includes(node)) continue;
        // makeContainerImage refuses an image in `layers`; this is one that another package brings at run time
        if (node instanceof ImageNode) throw imageAsLayer(`a runtime dependency of ${seen.find((p) => p.runtimeDeps().includes(node))?.name ?? "a layer"}`, node);
        seen.push(node);
        queue.push(...node.runtimeDeps());
      }
      this.#closure = seen;
    }
    return this.#closure;
  }

  private baseRefs(): MakesNode[] {
    const from = this.spec.fromImage;
    if (from === undefined) return [];
    return typeof from === "string" ? [] : [from];
  }

  deps(): readonly MakesNode[] {
    const fromText = typeof this.spec.fromImage === "string" ? this.spec.fromImage : "";
    const refs = [...this.packages(), ...this.baseRefs()];
    for (const node of fromText === "" ? [] : nodesInText(fromText)) if (!refs.includes(node)) refs.push(node);
    return refs;
  }

  async fingerprint(ctx: FingerprintContext): Promise<Fingerprint> {
    const label = ctx.labelOf(this);
    this.#options = validateImageOptions(this.spec.raw, { name: imageNameFor(label), tag: "latest", jobLabel: label }, { SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH });
    const options = this.#options;
    const from = this.spec.fromImage;
    const fromKey = from === undefined ? null : typeof from === "string" ? ctx.resolveForHash(from) : ctx.hashOf(from);
    const inputs: Record<string, string> = {
      options: JSON.stringify(options),
      layers: this.spec.layers.map((n) => ctx.labelOf(n)).join(", "),
    };
    if (fromKey !== null) inputs.fromImage = fromKey;
    return {
      key: { format: IMAGE_FORMAT, options: JSON.stringify(options), layers: this.spec.layers.map((n) => ctx.hashOf(n)), fromImage: fromKey, fromImageTag: this.spec.fromImageTag ?? null },
      inputs,
    };
  }

  async build(ctx: BuildContext): Promise<void> {
    const options = this.#options;
    if (options === undefined) throw new Error("internal: image built before it was fingerprinted");
    const packages = this.packages();
    const idOf = new Map(packages.map((n) => [n, ctx.storePathOf(n).split("/").pop()?.slice(0, 32) ?? ""]));
    const layerPackages: LayerPackage[] = [];
    // Two nodes with one hash (the same Debian package reached with different options) are one store path: one package.
    for (const n of packages) {
      const id = idOf.get(n) ?? "";
      if (layerPackages.some((p) => p.id === id)) continue;
      layerPackages.push({
        id,
        name: n.name,
        dir: ctx.storePathOf(n),
        refs: n.runtimeDeps().map((d) => idOf.get(d) ?? "").filter((r) => r !== "" && r !== id),
        contentDigest: ctx.contentDigestOf(n),
      });
    }
    let base: BaseImage | undefined;
    const from = this.spec.fromImage;
    if (from !== undefined) {
      const source = typeof from === "string" ? ctx.resolvePaths(from) : ctx.storePathOf(from);
      const { readBaseImage } = await import("./oci/read-base-image.js");
      base = await readBaseImage(source, join(ctx.tmpDir, "base"), this.spec.fromImageTag);
    }
    const layers = planLayers(layerPackages, options.maxLayers, base?.layers.length ?? 0);
    const order = dependencyOrder(layerPackages);
    // Loaded on first use: the tar and gzip code is a start-up cost for every run that builds no image.
    const { writeImage } = await import("./oci/write-image.js");
    const written = await writeImage({
      layers,
      options,
      outDir: ctx.out,
      cacheDir: layerCacheDir(ctx.storeDir),
      concurrency: Math.max(1, ctx.concurrency),
      onWarning: (m) => ctx.warn(m),
      signal: ctx.signal,
      order,
      ...(base === undefined ? {} : { base }),
    });
    // Blobs are named by their sha256, computed while they were written (or when the cached layer was):
    // the engine need not read them again to record the output's digest. Base-image blobs are read.
    const fromBase = new Set((base?.layers ?? []).map((l) => l.descriptor.digest.replace(/^sha256:/, "")));
    for (const name of await readdir(join(ctx.out, "blobs", "sha256"))) {
      if (/^[0-9a-f]{64}$/.test(name) && !fromBase.has(name)) ctx.declareDigest(`blobs/sha256/${name}`, name);
    }
    ctx.log(`manifest ${written.manifestDigest}\nconfig ${written.configDigest}\nlayer cache: ${written.layerCache.hits} hits, ${written.layerCache.misses} misses\n`);
    ctx.stat("layerCacheHits", written.layerCache.hits);
    ctx.stat("layerCacheMisses", written.layerCache.misses);
  }
}
