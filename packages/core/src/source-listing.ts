import { existsSync } from "node:fs";
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";

/** Directory names never part of a source tree, whatever git says. */
export const ALWAYS_EXCLUDED = new Set([".git", ".makes", "node_modules"]);

/**
 * The temporary bundle loadConfig writes beside makes.ts (when no node_modules is above it) while it
 * imports it: another makes process loading the same project at that moment, or one killed while
 * loading, leaves it where a `projectPath("/")` listing would see it and change the hash.
 */
const CONFIG_BUNDLE_TEMP = /(^|\/)\.makes-config-[0-9a-f]+\.mjs$/;

function excluded(relPath: string, extra: readonly string[]): boolean {
  // Most paths contain none of the names: test for that before splitting every path of the project.
  const suspect = relPath.includes(".git") || relPath.includes(".makes") || relPath.includes("node_modules");
  if (suspect && relPath.split("/").some((part) => ALWAYS_EXCLUDED.has(part))) return true;
  if (CONFIG_BUNDLE_TEMP.test(relPath)) return true;
  return extra.some((prefix) => relPath === prefix || relPath.startsWith(`${prefix}/`));
}

/** Whether `dir` or a directory above it has `.git` (a work tree or a worktree's file): only then is git asked. */
function insideGitWorkTree(dir: string): boolean {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, ".git"))) return true;
    if (dirname(current) === current) return false;
  }
}

function gitListFiles(projectDir: string): Promise<string[] | undefined> {
  // Starting git costs tens of milliseconds: not worth it where there is no repository to ask.
  if (!insideGitWorkTree(projectDir)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    execFile(
      "git",
      ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
      { cwd: projectDir, maxBuffer: 1 << 30, encoding: "buffer" },
      (err, stdout) => {
        if (err) return resolve(undefined); // not a git work tree, or no git: walk the tree instead
        resolve(stdout.toString("utf8").split("\0").filter((p) => p !== ""));
      },
    );
  });
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  for (const entry of entries) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (ALWAYS_EXCLUDED.has(entry.name)) continue;
    if (entry.isDirectory()) await walk(root, child, out);
    else out.push(child);
  }
}

/**
 * Lists the project's files once per run: what git tracks plus untracked files it does not ignore
 * (a git work tree), or every file (elsewhere). Paths are relative, `/`-separated and sorted.
 * Files listed by git but deleted from disk are dropped later, when they are stat'ed.
 */
export class SourceListing {
  #all: Promise<string[]> | undefined;

  constructor(
    readonly projectDir: string,
    /** Project-relative directories to leave out (a store kept inside the project under another name). */
    readonly extraExcluded: readonly string[] = [],
  ) {}

  all(): Promise<string[]> {
    this.#all ??= (async () => {
      let files = await gitListFiles(this.projectDir);
      if (files === undefined) {
        files = [];
        await walk(this.projectDir, "", files);
      }
      return files.filter((f) => !excluded(f, this.extraExcluded)).sort();
    })();
    return this.#all;
  }

  /** Files under `relDir` ("" for the whole project), relative to `relDir`. */
  async under(relDir: string): Promise<string[]> {
    const files = await this.all();
    if (relDir === "") return files;
    const prefix = `${relDir}/`;
    // The list is sorted, so the paths with this prefix are one run of it: find its start by bisection
    // instead of scanning every file of the project for every source tree (quadratic in a monorepo).
    let lo = 0;
    let hi = files.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((files[mid] ?? "") < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < files.length; i++) {
      const f = files[i] ?? "";
      if (!f.startsWith(prefix)) break;
      out.push(f.slice(prefix.length));
    }
    return out;
  }
}

/** A path inside `root` as a project-relative, `/`-separated path, or undefined if outside. */
export function projectRelative(root: string, abs: string): string | undefined {
  const rel = relative(root, abs);
  if (rel === "" ) return "";
  if (rel.startsWith("..") || rel.startsWith(sep)) return undefined;
  return rel.split(sep).join("/");
}
