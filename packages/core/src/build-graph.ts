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
    };
    for (const root of roots) visit(root);
    for (const node of graph.order) {
      let key = labels.get(node) ?? `${node.kind}:${node.name}`;
      for (let n = 2; usedKeys.has(key); n++) key = `${labels.get(node) ?? `${node.kind}:${node.name}`}#${n}`;
      usedKeys.add(key);
      graph.keyOf.set(node, key);
    }
    return graph;
  }

  labelOf(node: MakesNode): string {
    return this.labels.get(node) ?? node.name;
  }

  deps(node: MakesNode): readonly MakesNode[] {
    return this.depsOf.get(node) ?? [];
  }

  /** The nodes reachable from `roots`, in dependency order. */
  closureOf(roots: readonly MakesNode[]): MakesNode[] {
    const inClosure = new Set<MakesNode>();
    const add = (node: MakesNode): void => {
      if (inClosure.has(node)) return;
      inClosure.add(node);
      for (const dep of this.deps(node)) add(dep);
    };
    roots.forEach(add);
    return this.order.filter((n) => inClosure.has(n));
  }
}
