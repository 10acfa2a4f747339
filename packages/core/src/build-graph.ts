import { ConfigError } from "./errors.js";
import type { MakesNode } from "./makes-node.js";

/**
 * The closure of some root nodes, in dependency order (deps before dependents), with a stable key per
 * node: the job name for jobs, else kind:name (numbered when two nodes share one), used by `makes why`
 * to match a node with the one built last time.
 */
export class BuildGraph {
  readonly order: MakesNode[] = [];
  readonly depsOf = new Map<MakesNode, readonly MakesNode[]>();
  readonly runtimeOf = new Map<MakesNode, readonly MakesNode[]>();
  readonly keyOf = new Map<MakesNode, string>();

  private constructor(readonly labels: ReadonlyMap<MakesNode, string>) {}

  static collect(roots: readonly MakesNode[], labels: ReadonlyMap<MakesNode, string>): BuildGraph {
    const graph = new BuildGraph(labels);
    const state = new Map<MakesNode, "visiting" | "done">();
    const stack: MakesNode[] = [];
    const usedKeys = new Set<string>();
    const visit = (node: MakesNode): void => {
      const seen = state.get(node);
      if (seen === "done") return;
      if (seen === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(node)), node].map((n) => graph.labelOf(n));
        throw new ConfigError("cycle", `The jobs form a cycle: ${cycle.join(" → ")}; one of them must stop depending on the other.`);
      }
      state.set(node, "visiting");
      stack.push(node);
      const deps = node.deps();
      graph.depsOf.set(node, deps);
      for (const dep of deps) visit(dep);
      stack.pop();
      state.set(node, "done");
      graph.order.push(node);
      // Runtime deps must be in the store too (they are recorded with the node and kept alive by gc) but
      // are no build order: a Debian closure has cycles (libc6 <-> libgcc-s1). They are visited after the
      // node is done, so such a cycle is never taken for a build cycle.
      const runtime = node.runtimeDeps();
      graph.runtimeOf.set(node, runtime);
      for (const dep of runtime) visit(dep);
    };
    for (const root of roots) visit(root);
    for (const node of graph.order) graph.keyOf.set(node, uniqueKey(node, labels, usedKeys));
    return graph;
  }

  /**
   * Keys for the closure of one job, numbered in the order of a walk from that job alone: the same
   * whatever other jobs were built with it, so the job record written by `makes run '/a' '/b'` matches
   * the nodes `makes why /b` sees.
   */
  closureKeys(root: MakesNode): Map<MakesNode, string> {
    const keys = new Map<MakesNode, string>();
    const usedKeys = new Set<string>();
    const seen = new Set<MakesNode>();
    const visit = (node: MakesNode): void => {
      if (seen.has(node)) return;
      seen.add(node);
      for (const dep of this.deps(node)) visit(dep);
      keys.set(node, uniqueKey(node, this.labels, usedKeys));
      for (const dep of this.runtimeOf.get(node) ?? []) visit(dep);
    };
    visit(root);
    return keys;
  }

  labelOf(node: MakesNode): string {
    return this.labels.get(node) ?? node.label;
  }

  deps(node: MakesNode): readonly MakesNode[] {
    return this.depsOf.get(node) ?? [];
  }

  /** The nodes reachable from `roots` (through deps and runtime deps), in dependency order. */
  closureOf(roots: readonly MakesNode[]): MakesNode[] {
    const inClosure = new Set<MakesNode>();
    const add = (node: MakesNode): void => {
      if (inClosure.has(node)) return;
      inClosure.add(node);
      for (const dep of this.deps(node)) add(dep);
      for (const dep of this.runtimeOf.get(node) ?? []) add(dep);
    };
    roots.forEach(add);
    return this.order.filter((n) => inClosure.has(n));
  }
}

/** The job name for jobs, else kind:name, numbered when it is already used. */
function uniqueKey(node: MakesNode, labels: ReadonlyMap<MakesNode, string>, used: Set<string>): string {
  const base = labels.get(node) ?? `${node.kind}:${node.label}`;
  let key = base;
  for (let n = 2; used.has(key); n++) key = `${base}#${n}`;
  used.add(key);
  return key;
}
