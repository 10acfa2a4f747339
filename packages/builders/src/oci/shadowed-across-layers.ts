import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileInfo } from "./file-info.js";
import type { LayerPackage } from "./layer-package.js";
import { usrMergeActions } from "./merged-usr-moves.js";
import { sameContent } from "./same-content.js";

interface Leaf {
  readonly pkg: LayerPackage;
  readonly layer: number;
  readonly path: string;
}

/** Every file and symlink of a package by its path in the image (merged /usr applied), directories left out: they merge. */
async function leavesOf(pkg: LayerPackage, mergedUsr: readonly string[]): Promise<Map<string, string>> {
  const leaves = new Map<string, string>();
  const actions = new Map((await usrMergeActions(pkg.dir, mergedUsr)).map((a) => [a.name, a.action]));
  const visit = async (dir: string, rel: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    // At the top, moved directories last: the package's own usr/bin/x wins over its bin/x, as in the layer.
    if (rel === "") entries.sort((a, b) => Number(actions.get(a.name) === "move") - Number(actions.get(b.name) === "move"));
    for (const entry of entries) {
      const top = rel === "" ? actions.get(entry.name) : undefined;
      if (top === "drop") continue;
      const imageRel = top === "move" ? `usr/${entry.name}` : rel === "" ? entry.name : `${rel}/${entry.name}`;
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) await visit(abs, imageRel);
      else if (!leaves.has(imageRel)) leaves.set(imageRel, abs);
    }
  };
  await visit(pkg.dir, "");
  return leaves;
}

/**
 * With more packages than layers, the most popular packages keep layers of their own, bottom first in
 * popularity order, below the shared last layer: a package can then sit above one that comes later in the
 * planned order (a dependent, or one listed later), and where both have a path with different content the
 * upper one's is what the image holds — the opposite of what a layer each would give. Such layers are kept
 * (they are what lets images share layers); this names each case, one message per pair of packages, as a
 * conflict inside one layer is named. `order` is the planned order (dependencyOrder), in which later wins.
 */
export async function shadowedAcrossLayers(
  layers: readonly (readonly LayerPackage[])[],
  order: readonly LayerPackage[],
  mergedUsr: readonly string[],
): Promise<string[]> {
  const rank = new Map(order.map((p, i) => [p.id, i] as const));
  const rankOf = (p: LayerPackage): number => rank.get(p.id) ?? -1;
  const top = new Map<string, Leaf>();
  const pairs = new Map<string, { winner: LayerPackage; loser: LayerPackage; paths: string[] }>();
  for (const [layer, packages] of layers.entries()) {
    for (const pkg of packages) {
      for (const [path, abs] of await leavesOf(pkg, mergedUsr)) {
        const below = top.get(path);
        const wins = below === undefined || below.layer < layer || rankOf(pkg) > rankOf(below.pkg);
        if (below !== undefined && below.layer < layer && rankOf(below.pkg) > rankOf(pkg)) {
          const [a, b] = await Promise.all([lstat(below.path), lstat(abs)]);
          if (!(await sameContent(below.path, fileInfo(a), abs, fileInfo(b)))) {
            const key = `${pkg.id}>${below.pkg.id}`;
            const pair = pairs.get(key) ?? { winner: pkg, loser: below.pkg, paths: [] };
            pair.paths.push(path);
            pairs.set(key, pair);
          }
        }
        if (wins) top.set(path, { pkg, layer, path: abs });
      }
    }
  }
  return [...pairs.values()].map(({ winner, loser, paths }) => {
    const more = paths.length > 1 ? ` (and ${paths.length - 1} more paths)` : "";
    return (
      `${loser.name}'s /${paths[0] ?? ""}${more} is hidden by ${winner.name}'s copy in a layer above, although ${loser.name} comes later ` +
      `(a dependent, or listed later): with more packages than maxLayers the most shared packages get layers of their own below the ` +
      `shared last one; raise maxLayers to at least ${order.length} to keep the order`
    );
  });
}
