import { ConfigError, isMakesNode, type MakesNode } from "@makes/core";
import { DerivationNode } from "./derivation-node.js";
import { checkKnownKeys } from "./check-known-keys.js";
import { checkEnv, checkName, checkObject, checkSearchPaths, checkText, type EnvValue } from "./node-values.js";

export interface DerivationArgs {
  /** The store name: letters, digits and `+._?=-`. */
  readonly name: string;
  /** Bash, run with errexit, nounset and pipefail; must create `$out`. */
  readonly builder: string;
  readonly env?: Readonly<Record<string, EnvValue>>;
  readonly searchPaths?: { readonly bin?: readonly MakesNode[] };
  /** For fixed-output derivations: the sha256 (hex) the output must have. */
  readonly outputHash?: string;
  /** Nodes that must come along at run time (into images, for example). */
  readonly runtimeDeps?: readonly MakesNode[];
}

export function makeDerivation(args: DerivationArgs): DerivationNode {
  const raw = checkObject("makeDerivation", args);
  const name = checkName("makeDerivation", raw.name);
  checkKnownKeys(`makeDerivation "${name}"`, "argument", raw, ["name", "builder", "env", "searchPaths", "outputHash", "runtimeDeps"]);
  const outputHash = raw.outputHash;
  if (outputHash !== undefined && (typeof outputHash !== "string" || !/^[0-9a-fA-F]{64}$/.test(outputHash))) {
    throw new ConfigError("bad-argument", `makeDerivation "${name}": outputHash must be a sha256 in hex (64 characters)`);
  }
  const runtimeDeps = raw.runtimeDeps ?? [];
  // [...x]: a hole of a sparse array is undefined there, where `every` would skip it
  if (!Array.isArray(runtimeDeps) || ![...runtimeDeps].every(isMakesNode)) {
    throw new ConfigError("bad-argument", `makeDerivation "${name}": runtimeDeps must be an array of nodes`);
  }
  return new DerivationNode({
    name,
    builder: checkText("makeDerivation", name, "builder", raw.builder),
    env: checkEnv("makeDerivation", name, raw.env),
    searchPaths: checkSearchPaths("makeDerivation", name, raw.searchPaths),
    outputHash: outputHash?.toLowerCase(),
    runtimeDeps,
  });
}
