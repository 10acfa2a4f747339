import { ConfigError, type MakesNode } from "@makes/core";
import { checkKnownKeys } from "./check-known-keys.js";
import { debianPackage, type DebianOptions } from "./debian-package-node.js";
import { describeValue } from "./quoted.js";

/** One node per (package, options) for the whole evaluation, so `inputs.debian.x` twice is one node. */
const memo = new Map<string, MakesNode>();

function packageNode(name: string, options: DebianOptions = {}): MakesNode {
  if (typeof name !== "string" || !/^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$/.test(name) || name.length > 200) {
    // Any value may arrive here from makes.ts: strings quoted and cut short, other values by their type.
    const shown = typeof name === "string" ? JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name) : name === null ? "null" : typeof name;
    throw new ConfigError("bad-argument", `inputs.debian.package(${shown}): a Debian package name is lowercase letters, digits and + . - (for example "coreutils")`);
  }
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ConfigError("bad-argument", `inputs.debian.package("${name}", options): options must be { keepDocs?, exclude? }`);
  }
  checkKnownKeys(`inputs.debian.package("${name}")`, "option", options, ["keepDocs", "exclude"]);
  if (options.keepDocs !== undefined && typeof options.keepDocs !== "boolean") {
    throw new ConfigError("bad-argument", `inputs.debian.package("${name}"): keepDocs must be true or false, got ${describeValue(options.keepDocs)}`);
  }
  const exclude = options.exclude ?? [];
  // [...x]: a hole of a sparse array is undefined there, where `every` would skip it
  if (!Array.isArray(exclude) || ![...exclude].every((e) => typeof e === "string")) {
    throw new ConfigError("bad-argument", `inputs.debian.package("${name}"): exclude must be an array of package names`);
  }
  const key = JSON.stringify([name, options.keepDocs === true, [...exclude].sort()]);
  let node = memo.get(key);
  if (node === undefined) {
    node = debianPackage(name, options);
    memo.set(key, node);
  }
  return node;
}

/**
 * `inputs.debian`: `inputs.debian.coreutils` (defaults) or `inputs.debian.package("nodejs", { exclude: ["python3"] })`.
 * Looking up a package that is not installed throws a ConfigError naming it.
 */
export const debianInputs = new Proxy({} as Record<string, MakesNode> & { package: typeof packageNode }, {
  get(_target, property) {
    if (property === "package") return packageNode;
    if (typeof property !== "string" || property === "then" || property === "toJSON") return undefined;
    return packageNode(property);
  },
});
