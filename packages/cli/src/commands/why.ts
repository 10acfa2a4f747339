import { explainPlan, type Explanation, type InputChange } from "@makes/core";
import type { GlobalOptions } from "../global-options.js";
import { openProject } from "../open-project.js";

function short(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

function describeChange(change: InputChange): string {
  const [what, name] = change.input.includes(":") ? [change.input.slice(0, change.input.indexOf(":")), change.input.slice(change.input.indexOf(":") + 1)] : ["", change.input];
  const subject = what === "file" ? `source file ${name}` : what === "dep" ? `dependency ${name}` : name.startsWith("env.") ? `env ${name.slice(4)}` : name;
  switch (change.kind) {
    case "added":
      return what === "file" ? `${subject} was added (${short(change.after)})` : `${subject} was added: ${short(change.after)}`;
    case "removed":
      return what === "file" ? `${subject} was deleted (was ${short(change.before)})` : `${subject} was removed (was ${short(change.before)})`;
    case "changed":
      return what === "dep" ? `${subject} changed (${change.before.slice(0, 12)} → ${change.after.slice(0, 12)})` : `${subject} changed: ${short(change.before)} → ${short(change.after)}`;
    default: {
      const never: never = change;
      return never;
    }
  }
}

/** `storeRoot`: where the store is now, to tell apart from where a path was built. */
export function describeExplanation(e: Explanation, storeRoot: string): string[] {
  switch (e.reason) {
    case "built":
      return [`${e.label}: built (${e.hash.slice(0, 12)})`];
    case "never-built":
      return [`${e.label}: never built (${e.hash.slice(0, 12)})`];
    case "output-missing":
      return [`${e.label}: output missing — the store path was deleted; it will be rebuilt`];
    case "built-elsewhere":
      return [`${e.label}: built for the store at ${e.builtIn} (this store is at ${storeRoot}), and its output may name that location: it will be rebuilt here`];
    case "inputs-changed":
      return [
        `${e.label}: inputs changed since the last build (${e.previousHash.slice(0, 12)} → ${e.hash.slice(0, 12)})`,
        ...e.changes.map((c) => `  - ${describeChange(c)}`),
      ];
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** `makes why /job`: for each node of the closure that is not built, what changed. */
export async function whyCommand(args: GlobalOptions & { readonly job: string; readonly json: boolean; readonly all: boolean }): Promise<number> {
  const project = await openProject(args, true);
  const plan = await project.plan([args.job]);
  const job = plan.jobs[0] ?? args.job;
  const root = plan.roots[0];
  if (root === undefined) return 2;
  const explanations = await explainPlan(project.store, plan, job, root);
  const shown = args.all ? explanations : explanations.filter((e) => e.reason !== "built");
  if (args.json) {
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    return 0;
  }
  if (shown.length === 0) {
    process.stdout.write(`${job} is built and up to date: nothing would be rebuilt.\n`);
    return 0;
  }
  for (const e of shown) process.stdout.write(`${describeExplanation(e, project.store.root).join("\n")}\n`);
  return 0;
}
