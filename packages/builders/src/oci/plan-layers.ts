import { ConfigError } from "@makes/core";
import type { LayerPackage } from "./layer-package.js";

/**
 * Groups a closure of packages into at most `maxLayers - baseLayerCount` layers, bottom layer first.
 *
 * `packages` is the whole closure in the user's order (roots as listed, then their dependencies).
 * Within budget: one package per layer, dependencies below dependents, the user's order otherwise.
 * Over budget: grahamc's popularity ranking (nixpkgs referencesByPopularity) — the budget-1 most popular
 * packages keep a layer each, in ranking order (most popular at the bottom: the most shared layers come first,
 * which keeps ChainIDs shared between images), and all the others share the last layer in the user's order
 * (so a package the user listed first wins a path conflict in that layer, see write-layer.ts).
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
  const rest = unique.filter((p) => !own.has(p.id));
  return [...ranked.slice(0, budget - 1).map((p) => [p]), rest];
}

function dedupe(packages: readonly LayerPackage[]): LayerPackage[] {
  const seen = new Set<string>();
  return packages.filter((p) => (seen.has(p.id) ? false : (seen.add(p.id), true)));
}

/** Stable topological order: repeatedly the earliest package (user's order) whose dependencies are all placed. */
export function dependencyOrder(packages: readonly LayerPackage[]): LayerPackage[] {
  const ids = new Set(packages.map((p) => p.id));
  const placed = new Set<string>();
  const out: LayerPackage[] = [];
  const pending = [...packages];
  while (pending.length > 0) {
    let index = pending.findIndex((p) => p.refs.every((r) => r === p.id || !ids.has(r) || placed.has(r)));
    if (index === -1) index = cycleBreaker(pending, ids, placed);
    const [next] = pending.splice(index, 1);
    if (next === undefined) break;
    placed.add(next.id);
    out.push(next);
  }
  return out;
}

/**
 * Every pending package waits on another (a reference cycle such as libc6 <-> libgcc-s1): place the one
 * with the fewest unplaced dependencies, then the one most others wait on, then the user's order — so a
 * cycle deep in the closure is broken there, not by lifting the user's own package below its dependencies.
 */
function cycleBreaker(pending: readonly LayerPackage[], ids: ReadonlySet<string>, placed: ReadonlySet<string>): number {
  const unplaced = (p: LayerPackage): number => p.refs.filter((r) => r !== p.id && ids.has(r) && !placed.has(r)).length;
  const waiters = (p: LayerPackage): number => pending.filter((q) => q !== p && q.refs.includes(p.id)).length;
  let best = 0;
  for (let i = 1; i < pending.length; i++) {
    const a = pending[i];
    const b = pending[best];
    if (a === undefined || b === undefined) continue;
    const byUnplaced = unplaced(a) - unplaced(b);
    if (byUnplaced < 0 || (byUnplaced === 0 && waiters(a) > waiters(b))) best = i;
  }
  return best;
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
