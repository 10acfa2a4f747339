import type { MakesNode } from "./makes-node.js";
import type { Plan } from "./project.js";
import type { Store } from "./store.js";

export type InputChange =
  | { readonly kind: "changed"; readonly input: string; readonly before: string; readonly after: string }
  | { readonly kind: "added"; readonly input: string; readonly after: string }
  | { readonly kind: "removed"; readonly input: string; readonly before: string };

/** Why a node of a job's closure is not built. */
export type Explanation =
  | { readonly reason: "built"; readonly label: string; readonly hash: string }
  | { readonly reason: "never-built"; readonly label: string; readonly hash: string }
  | { readonly reason: "output-missing"; readonly label: string; readonly hash: string }
  /** Built when the store was at `builtIn` (moved or restored since), and the output may spell that location (Store.atHome). */
  | { readonly reason: "built-elsewhere"; readonly label: string; readonly hash: string; readonly builtIn: string }
  | { readonly reason: "inputs-changed"; readonly label: string; readonly hash: string; readonly previousHash: string; readonly changes: readonly InputChange[] };

function diffInputs(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): InputChange[] {
  const changes: InputChange[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const input of keys) {
    const b = before[input];
    const a = after[input];
    if (b === a) continue;
    if (b === undefined && a !== undefined) changes.push({ kind: "added", input, after: a });
    else if (a === undefined && b !== undefined) changes.push({ kind: "removed", input, before: b });
    else if (a !== undefined && b !== undefined) changes.push({ kind: "changed", input, before: b, after: a });
  }
  return changes;
}

/**
 * For every node of the closure of `job`: built, or why not — compared with the inputs recorded when
 * the job was last built (its job record names the hash each node had then).
 */
export async function explainPlan(store: Store, plan: Plan, job: string, root: MakesNode): Promise<Explanation[]> {
  const record = await store.readJobRecord(job);
  const out: Explanation[] = [];
  const keys = plan.graph.closureKeys(root);
  for (const node of plan.graph.closureOf([root])) {
    const hashed = plan.hashes.get(node);
    if (hashed === undefined) continue;
    const label = plan.graph.labelOf(node);
    const hash = hashed.hash;
    const meta = await store.readMeta(hash);
    if (meta !== undefined && !store.atHome(meta)) {
      out.push({ reason: "built-elsewhere", label, hash, builtIn: meta.root ?? "" });
      continue;
    }
    if (meta !== undefined) {
      const valid = await store.validMeta(hash, node.name);
      out.push(valid !== undefined ? { reason: "built", label, hash } : { reason: "output-missing", label, hash });
      continue;
    }
    const key = keys.get(node) ?? node.name;
    const previousHash = record?.closure[key];
    const previous = previousHash === undefined ? undefined : await store.readMeta(previousHash);
    if (previousHash === undefined || previous === undefined) {
      out.push({ reason: "never-built", label, hash });
      continue;
    }
    const before: Record<string, string> = {};
    const after: Record<string, string> = {};
    // Dependencies are compared by name: a dep whose hash moved shows as that dep changing.
    for (const [k, v] of Object.entries(previous.inputs)) before[k] = v;
    for (const [k, v] of Object.entries(hashed.inputs)) after[k] = v;
    out.push({ reason: "inputs-changed", label, hash, previousHash, changes: diffInputs(before, after) });
  }
  return out;
}
