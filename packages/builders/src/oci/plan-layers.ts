import { ConfigError } from "@makes/core";
import type { LayerPackage } from "./layer-package.js";

/**
 * Groups a closure of packages into at most `maxLayers - baseLayerCount` layers, bottom layer first.
 *
 * `packages` is the whole closure in the user's order (roots as listed, then their dependencies).
 * Within budget: one package per layer in dependencyOrder — dependencies below dependents, a package listed
 * later above one listed earlier (with its closure), as in a Dockerfile.
 * Over budget: grahamc's popularity ranking (nixpkgs referencesByPopularity) — the budget-1 most popular
 * packages keep a layer each, in ranking order (most popular at the bottom: the most shared layers come first,
 * which keeps ChainIDs shared between images), and all the others share the last layer in dependencyOrder, where
 * the package later in that order wins a path conflict (see merged-tree-walk.ts): what a dependent or a package
 * listed later would override from a layer above, it also overrides inside the shared layer.
 */
export function planLayers(packages: readonly LayerPackage[], maxLayers: number, baseLayerCount = 0): LayerPackage[][] {
  const budget = maxLayers - baseLayerCount;
  if (budget < 1) {
    throw new ConfigError(
      "bad-argument",
      `makeContainerImage: maxLayers (${maxLayers}) leaves no layer for the packages after the ${baseLayerCount} layers of fromImage; raise maxLayers above ${baseLayerCount}`,
    );
  }
  const unique = dedupe(packages);
  if (unique.length <= budget) return dependencyOrder(unique).map((p) => [p]);

  const ranked = popularityOrder(unique);
  const own = new Set(ranked.slice(0, budget - 1).map((p) => p.id));
  const rest = dependencyOrder(unique.filter((p) => !own.has(p.id)));
  return [...ranked.slice(0, budget - 1).map((p) => [p]), rest];
}

function dedupe(packages: readonly LayerPackage[]): LayerPackage[] {
  const seen = new Set<string>();
  return packages.filter((p) => (seen.has(p.id) ? false : (seen.add(p.id), true)));
}

/**
 * The layer order within budget, as Docker's and nix2container's: for each package in the given order (the
 * user's packages come first, as listed), its runtime-dependency closure depth-first (each dependency's own
 * dependencies first, in the order it declares them, each package once), then the package itself. So a
 * dependency always sits below its dependents, and a package the user lists later sits above one listed
 * earlier, with everything the later one brings, and can override their files. A dependency cycle (libc6 <->
 * libgcc-s1) is broken where the walk meets it again: the package reached second goes below the first.
 */
export function dependencyOrder(packages: readonly LayerPackage[]): LayerPackage[] {
  const byId = new Map(packages.map((p) => [p.id, p] as const));
  const placed = new Set<string>();
  const out: LayerPackage[] = [];
  // Iterative: a long dependency chain cannot overflow the stack. A package is marked when first entered,
  // which also stops a cycle; it is emitted once all its dependencies are.
  for (const start of packages) {
    if (placed.has(start.id)) continue;
    placed.add(start.id);
    const stack: { pkg: LayerPackage; next: number }[] = [{ pkg: start, next: 0 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { pkg: LayerPackage; next: number };
      const ref = frame.pkg.refs[frame.next++];
      if (ref === undefined) {
        stack.pop();
        out.push(frame.pkg);
        continue;
      }
      const dep = byId.get(ref);
      if (dep === undefined || placed.has(dep.id)) continue;
      placed.add(dep.id);
      stack.push({ pkg: dep, next: 0 });
    }
  }
  return out;
}

/**
 * referencesByPopularity: unroll the graph from its roots into a tree (shared nodes duplicated), then each
 * node's popularity is the sum, over every occurrence, of 1 + the size of the unrolled tree above it.
 * Computed with memoised per-node contests (as closure-graph.py does), exact with bigint.
 * Order: popularity descending, then name, then id ascending.
 */
export function popularityOrder(packages: readonly LayerPackage[]): LayerPackage[] {
  const byId = new Map(packages.map((p) => [p.id, p] as const));
  const children = (p: LayerPackage): string[] => [...new Set(p.refs)].filter((r) => r !== p.id && byId.has(r));
  const referenced = new Set(packages.flatMap((p) => children(p)));
  const roots = packages.filter((p) => !referenced.has(p.id));

  const cache = new Map<string, Map<string, bigint>>();
  const visiting = new Set<string>();
  // contest(p): popularity counts of p's descendants within the subtree rooted at p
  const contest = (id: string): Map<string, bigint> => {
    const hit = cache.get(id);
    if (hit !== undefined) return hit;
    const result = new Map<string, bigint>();
    const node = byId.get(id);
    visiting.add(id);
    for (const child of node === undefined ? [] : children(node)) {
      if (visiting.has(child)) continue; // cycles cannot come from a valid graph; never recurse forever
      result.set(child, (result.get(child) ?? 0n) + 1n);
      for (const [sub, count] of contest(child)) result.set(sub, (result.get(sub) ?? 0n) + count + 1n);
    }
    visiting.delete(id);
    cache.set(id, result);
    return result;
  };
  const popularity = new Map<string, bigint>();
  for (const root of roots) {
    popularity.set(root.id, (popularity.get(root.id) ?? 0n) + 1n);
    for (const [sub, count] of contest(root.id)) popularity.set(sub, (popularity.get(sub) ?? 0n) + count + 1n);
  }
  const score = (p: LayerPackage): bigint => popularity.get(p.id) ?? 0n; // only in a cycle with no root
  return [...packages].sort((a, b) => {
    const pa = score(a);
    const pb = score(b);
    if (pa !== pb) return pa > pb ? -1 : 1;
    return byteCompare(a.name, b.name) || byteCompare(a.id, b.id);
  });
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
