import { ConfigError, isMakesNode, nodesIn, sanitiseName, type MakesNode } from "@makes/core";
import { ImageNode, imageAsLayer } from "./image-node.js";
import { checkKnownKeys } from "./check-known-keys.js";
import { checkObject } from "./node-values.js";
import { describeValue } from "./quoted.js";
import type { ImageConfig } from "./oci/image-options.js";
import { validateImageOptions } from "./oci/validate-image-options.js";

export interface ContainerImageArgs {
  /** Packages whose store contents go at `/` of the image, each (up to maxLayers) in its own layer. */
  readonly layers?: readonly MakesNode[];
  /** Default 65. */
  readonly maxLayers?: number;
  readonly config?: ImageConfig;
  /** Default: from the job name (`/myContainer` → `mycontainer`). */
  readonly name?: string;
  /** Default `latest`. */
  readonly tag?: string;
  /** A base image: an image job, or a string interpolating a node whose output holds an OCI layout or an oci-/docker-archive. */
  readonly fromImage?: MakesNode | string;
  /** Which image of a multi-image base to use (its ref name). */
  readonly fromImageTag?: string;
  /** Go names; default the host's. */
  readonly architecture?: string;
  readonly os?: string;
  /** RFC 3339; default 1970-01-01T00:00:01Z or SOURCE_DATE_EPOCH. */
  readonly created?: string;
}

const KNOWN = ["layers", "maxLayers", "config", "name", "tag", "fromImage", "fromImageTag", "architecture", "os", "created"];

/** Every field is checked here, while makes.ts is evaluated: a wrong type fails before anything is built. */
export function makeContainerImage(args: ContainerImageArgs = {}): ImageNode {
  const raw = checkObject("makeContainerImage", args);
  checkKnownKeys("makeContainerImage", "argument", raw, KNOWN);
  const layers = raw.layers ?? [];
  if (!Array.isArray(layers)) throw new ConfigError("bad-argument", `makeContainerImage: layers must be an array of packages (nodes), got ${describeValue(layers)}`);
  for (const [i, layer] of layers.entries()) {
    if (!isMakesNode(layer)) {
      throw new ConfigError("bad-argument", `makeContainerImage: layers[${i}] must be a package (a node such as inputs.debian.coreutils or a makeDerivation), got ${describeValue(layer)}`);
    }
    if (layer instanceof ImageNode) throw imageAsLayer(`layers[${i}]`, layer);
  }
  const optionFields: Record<string, unknown> = {};
  for (const key of ["maxLayers", "config", "name", "tag", "architecture", "os", "created"]) if (raw[key] !== undefined) optionFields[key] = raw[key];
  validateImageOptions(optionFields, { name: "image", tag: "latest", jobLabel: typeof raw.name === "string" && /^[\x21-\x7e]{1,80}$/.test(raw.name) ? raw.name : "image" }, { SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH });
  const fromImage = raw.fromImage;
  if (fromImage !== undefined && !isMakesNode(fromImage) && !(typeof fromImage === "string" && nodesIn(fromImage).length > 0)) {
    throw new ConfigError(
      "bad-argument",
      "makeContainerImage: fromImage must be an image job, or a string naming a file of a node such as `${projectPath(\"/images\")}/base.tar`; a plain path is not tracked, so it is refused",
    );
  }
  const fromImageTag = raw.fromImageTag;
  if (fromImageTag !== undefined && typeof fromImageTag !== "string") throw new ConfigError("bad-argument", `makeContainerImage: fromImageTag must be a string (the ref name of one image of the base), got ${describeValue(fromImageTag)}`);
  const storeName = typeof raw.name === "string" ? sanitiseName(raw.name.replace(/\//g, "-")) : "image";
  return new ImageNode({ layers: layers as MakesNode[], raw: optionFields, fromImage: fromImage as MakesNode | string | undefined, fromImageTag }, storeName);
}
