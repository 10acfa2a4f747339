import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/** Directory names never part of a source tree, whatever git says. */
export const ALWAYS_EXCLUDED = new Set([".git", ".makes", "node_modules"]);

function excluded(relPath: string, extra: readonly string[]): boolean {
  const parts = relPath.split("/");
  if (parts.some((part) => ALWAYS_EXCLUDED.has(part))) return true;
  return extra.some((prefix) => relPath === prefix || relPath.startsWith(`${prefix}/`));
}

function gitListFiles(projectDir: string): Promise<string[] | undefined> {
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
    return files.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
  }
}

/** A path inside `root` as a project-relative, `/`-separated path, or undefined if outside. */
export function projectRelative(root: string, abs: string): string | undefined {
  const rel = relative(root, abs);
  if (rel === "" ) return "";
  if (rel.startsWith("..") || rel.startsWith(sep)) return undefined;
  return rel.split(sep).join("/");
}
