import { basename, join, relative, sep } from "node:path";
import { ALWAYS_EXCLUDED, BuildGraph, MakesError, SourceTreeNode, selectJobs, type MakesNode, type Project } from "@makes/core";

/**
 * The source trees (`projectPath`) among `nodes` (a plan's closure), as absolute directories, nested ones
 * dropped, and how many files they hold (0 for trees not hashed yet).
 */
export function sourceTreesOf(nodes: readonly MakesNode[], projectDir: string): { trees: string[]; files: number } {
  const dirs = new Map<string, number>();
  for (const node of nodes) {
    if (!(node instanceof SourceTreeNode)) continue;
    const dir = node.relDir === "" ? projectDir : join(projectDir, node.relDir);
    dirs.set(dir, Math.max(dirs.get(dir) ?? 0, node.entries?.length ?? 0));
  }
  const sorted = [...dirs.keys()].sort();
  const trees: string[] = [];
  let files = 0;
  for (const dir of sorted) {
    if (trees.some((t) => isInside(dir, t))) continue; // counted with its enclosing tree
    trees.push(dir);
    files += dirs.get(dir) ?? 0;
  }
  return { trees, files };
}

/**
 * The source trees of the jobs' closure found without hashing it, for when hashing failed (a tree that
 * no longer exists): undefined when the jobs themselves cannot be resolved.
 */
export function closureTreesOf(project: Project, patterns: readonly string[]): string[] | undefined {
  try {
    const roots = selectJobs(patterns, project.jobs.keys()).flatMap((job) => project.jobs.get(job) ?? []);
    return sourceTreesOf(BuildGraph.collect(roots, project.labels).order, project.projectDir).trees;
  } catch (err) {
    if (err instanceof MakesError) return undefined;
    throw err;
  }
}

/** `path` is `dir` or below it. */
export function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * What the watcher must never look at: the store (outputs, logs, out-links, locks — wherever --store
 * puts it), `.git`, `node_modules`, `.makes` (the paths no source tree ever contains), and the
 * temporary bundle the config loader writes beside makes.ts. Watching any of them would let makes'
 * own writes trigger the next iteration (the self-trigger loops of turbo #11964 and nx #18703).
 */
export function ignoredPath(projectDir: string, storeRoot: string): (path: string) => boolean {
  return (path) => {
    if (isInside(path, storeRoot)) return true;
    const name = basename(path);
    if (name.startsWith(".makes-config-")) return true;
    const rel = relative(projectDir, path);
    const parts = rel.startsWith("..") ? [name] : rel.split(sep);
    return parts.some((part) => ALWAYS_EXCLUDED.has(part));
  };
}

/** "makes.ts", "a/x.ts and b/y.ts", "4 files (a/x.ts, b/y.ts, c/z.ts, …)" — relative to the current directory. */
export function describeChanges(paths: Iterable<string>): string {
  const shown = [...paths].map((p) => relative(process.cwd(), p) || p).sort();
  if (shown.length <= 2) return shown.join(" and ");
  const head = shown.slice(0, 3).join(", ");
  return `${shown.length} files (${head}${shown.length > 3 ? ", …" : ""})`;
}

