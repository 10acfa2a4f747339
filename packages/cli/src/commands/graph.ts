import { UsageError } from "@makes/core";
import type { GlobalOptions } from "../global-options.js";
import { openProject } from "../open-project.js";

export type GraphFormat = "dot" | "mermaid" | "json";

/** Prints the closure of the jobs with each node's hash and whether it is built. */
export async function graphCommand(args: GlobalOptions & { readonly jobs_: readonly string[]; readonly format: GraphFormat }): Promise<number> {
  const project = await openProject(args, true);
  const plan = await project.plan(args.jobs_);
  const nodes = await Promise.all(
    plan.nodes.map(async (node, index) => {
      const hash = plan.hashes.get(node)?.hash ?? "";
      const built = (await project.store.validMeta(hash, node.name)) !== undefined;
      return { id: `n${index}`, node, label: plan.graph.labelOf(node), kind: node.kind, hash, built };
    }),
  );
  const idOf = new Map(nodes.map((n) => [n.node, n.id]));
  const edges = nodes.flatMap((n) => plan.graph.deps(n.node).map((d) => ({ from: n.id, to: idOf.get(d) ?? "" })));
  const out: string[] = [];
  switch (args.format) {
    case "json":
      out.push(
        JSON.stringify(
          {
            jobs: plan.jobs,
            nodes: nodes.map((n) => ({ id: n.id, label: n.label, kind: n.kind, hash: n.hash, built: n.built, path: project.store.layout.storePath(n.hash, n.node.name) })),
            edges: edges.map((e) => ({ from: e.from, to: e.to })),
          },
          null,
          2,
        ),
      );
      break;
    case "dot":
      out.push("digraph makes {", "  rankdir=LR;");
      for (const n of nodes) {
        out.push(`  ${n.id} [label=${JSON.stringify(`${n.label}\n${n.kind} ${n.hash.slice(0, 12)}\n${n.built ? "built" : "not built"}`)}${n.built ? "" : ", style=dashed"}];`);
      }
      for (const e of edges) out.push(`  ${e.from} -> ${e.to};`);
      out.push("}");
      break;
    case "mermaid":
      out.push("graph LR");
      for (const n of nodes) out.push(`  ${n.id}["${n.label.replace(/"/g, "#quot;")}<br/>${n.kind} ${n.hash.slice(0, 12)}<br/>${n.built ? "built" : "not built"}"]`);
      for (const e of edges) out.push(`  ${e.from} --> ${e.to}`);
      break;
    default: {
      const never: never = args.format;
      throw new UsageError("bad-flag", `unknown graph format ${String(never)}`);
    }
  }
  process.stdout.write(`${out.join("\n")}\n`);
  return 0;
}
