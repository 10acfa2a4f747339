import { lstatSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { BuildError, ConfigError } from "./errors.js";
import { gitListing, type GitBlob } from "./git-listing.js";
import type { GitFailure } from "./run-git.js";
import { escapeInvalid } from "./git-records.js";

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
  if (relPath.includes(".makes-config-") && CONFIG_BUNDLE_TEMP.test(relPath)) return true;
  return extra.some((prefix) => relPath === prefix || relPath.startsWith(`${prefix}/`));
}

async function walk(root: string, rel: string, out: string[], unreadable: string[], denied: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Refused only by a tree that holds it: the walk lists the whole project, most of which no tree may use.
    if (code === "EACCES" || code === "EPERM") return void denied.push(rel);
    if (rel !== "" && (code === "ENOENT" || code === "ENOTDIR")) return; // gone since its parent was read
    throw err;
  }
  // A name that is not UTF-8 comes back with U+FFFD in it, and so names no file: read such a directory's
  // names as bytes to tell those from a real U+FFFD.
  const invalid = new Set<string>();
  if (entries.some((e) => e.name.includes("\uFFFD"))) {
    for (const raw of await readdir(join(root, rel), { encoding: "buffer" })) {
      if (Buffer.from(raw.toString("utf8"), "utf8").equals(raw)) continue;
      invalid.add(raw.toString("utf8"));
      unreadable.push(rel === "" ? escapeInvalid(raw) : `${rel}/${escapeInvalid(raw)}`);
    }
  }
  for (const entry of entries) {
    const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (ALWAYS_EXCLUDED.has(entry.name) || invalid.has(entry.name)) continue;
    if (entry.isDirectory()) await walk(root, child, out, unreadable, denied);
    else out.push(child);
  }
}

/**
 * Drops the paths under a directory that is no longer one on disk: git's index can still hold `dir/file` when
 * `dir` has become a symlink or a file, and `git ls-files -m` stats through the symlink (calling the file
 * unchanged, or modified, but never deleted), so reading or copying `dir/file` would go through `dir`, out of the
 * tree — whether or not git lists the symlink itself (an ignored one it does not). One lstat per directory of
 * listed files: ~2,000 for a 10,000-file monorepo. (A listed `dir` that is a directory is a deleted file whose name
 * a new directory took: its files stay; a directory that is missing holds deleted files, dropped when stat'ed.)
 */
function withoutPathsUnderFiles(root: string, files: readonly string[]): string[] {
  /** Directory → whether files under it may be read (it is a directory, or missing). */
  const readable = new Map<string, boolean>([["", true]]);
  const dirOk = (dir: string): boolean => {
    const known = readable.get(dir);
    if (known !== undefined) return known;
    const slash = dir.lastIndexOf("/");
    let ok = dirOk(slash < 0 ? "" : dir.slice(0, slash));
    if (ok) {
      const st = lstatSync(join(root, dir), { throwIfNoEntry: false });
      ok = st === undefined || st.isDirectory();
    }
    readable.set(dir, ok);
    return ok;
  };
  const out: string[] = [];
  let lastDir = "";
  let lastDirOk = true;
  for (const file of files) {
    const slash = file.lastIndexOf("/");
    const dir = slash < 0 ? "" : file.slice(0, slash);
    // Sorted: the files of one directory come together.
    if (dir !== lastDir) {
      lastDir = dir;
      lastDirOk = dirOk(dir);
    }
    if (lastDirOk) out.push(file);
  }
  return out;
}

/**
 * Lists the project's files once per run: what git tracks plus untracked files it does not ignore
 * (a git work tree), or every file (elsewhere). Paths are relative, `/`-separated and sorted.
 * Files listed by git but deleted from disk are dropped later, when they are stat'ed.
 */
export class SourceListing {
  #all: Promise<string[]> | undefined;
  #files: string[] | undefined;
  #clean: ReadonlyMap<string, GitBlob> = new Map();
  /** Project-relative paths whose names are not UTF-8 (escaped): refused by a tree that holds one. */
  #unreadable: readonly string[] = [];
  #walkBecause: GitFailure | undefined;
  /** Project-relative directories the walk may not read: refused by a tree that holds one. */
  #denied: readonly string[] = [];

  constructor(
    readonly projectDir: string,
    /** Project-relative directories to leave out (a store kept inside the project under another name). */
    readonly extraExcluded: readonly string[] = [],
    /**
     * makes.ts, relative to the project: when git lists it neither as tracked nor as untracked, the project sits
     * in a directory its repository ignores (a home directory kept in git with `*` ignored), so git would list no
     * file of it, and the project is walked as if outside git.
     */
    readonly configFile?: string,
  ) {}

  all(): Promise<string[]> {
    this.#all ??= (async () => {
      let git = await gitListing(this.projectDir);
      if (git !== undefined && "walkBecause" in git) {
        this.#walkBecause = git.walkBecause;
        git = undefined;
      }
      if (git !== undefined && this.configFile !== undefined && !git.files.includes(this.configFile)) git = undefined;
      let files: string[] = [];
      if (git === undefined) {
        const unreadable: string[] = [];
        const denied: string[] = [];
        await walk(this.projectDir, "", files, unreadable, denied);
        this.#unreadable = unreadable;
        this.#denied = denied;
      } else {
        files = git.files;
        this.#clean = git.clean;
        this.#unreadable = git.unreadable;
      }
      files = files.filter((f) => !excluded(f, this.extraExcluded));
      // git's two lists come sorted (by bytes, which for most paths is this order too): then one pass checks it.
      if (!files.every((f, i) => i === 0 || (files[i - 1] ?? "") <= f)) files.sort();
      // git lists a file once per index entry (a conflict has several) and once more if untracked.
      const unique = files.filter((f, i) => i === 0 || f !== files[i - 1]);
      // A walk lists only what it found under real directories; git's index can name paths under what is not one now.
      this.#files = git === undefined ? unique : withoutPathsUnderFiles(this.projectDir, unique);
      return this.#files;
    })();
    return this.#all;
  }

  /** Why a project in a git work tree was walked, ignored files included (no git, git failed). Known once `all()` has resolved. */
  get walkBecause(): GitFailure | undefined {
    return this.#walkBecause;
  }

  /** A file (project-relative) that git vouches is its index blob: no lstat needed. Known once `all()` has resolved. */
  clean(path: string): GitBlob | undefined {
    return this.#clean.get(path);
  }

  /** The files under `relDir` ("" for the whole project), relative to it, with what git vouches for (see clean) beside each. */
  async tree(relDir: string): Promise<{ files: string[]; blobs: (GitBlob | undefined)[] }> {
    await this.all();
    return this.treeSync(relDir);
  }

  /** tree, once `all()` has resolved. */
  treeSync(relDir: string): { files: string[]; blobs: (GitBlob | undefined)[] } {
    const all = this.#files;
    if (all === undefined) throw new Error("internal: the source listing was read before it was made");
    const unreadable = this.#unreadable.find((p) => relDir === "" || p.startsWith(`${relDir}/`));
    if (unreadable !== undefined) {
      throw new ConfigError(
        "bad-argument",
        `projectPath("/${relDir}"): the name of ${unreadable} is not valid UTF-8, so makes cannot hash it under a name that stays the same; rename it (its bytes that are not UTF-8 are shown as \\xNN)`,
      );
    }
    const denied = this.#denied.find((p) => relDir === "" || p === relDir || p.startsWith(`${relDir}/`) || relDir.startsWith(`${p}/`));
    if (denied !== undefined) {
      throw new BuildError("unreadable-source", `projectPath("/${relDir}"): cannot read the directory ${denied} (permission denied); make it readable by this user, or move it out of the tree`);
    }
    const [from, to] = relDir === "" ? [0, all.length] : range(all, `${relDir}/`);
    const skip = relDir === "" ? 0 : relDir.length + 1;
    const files: string[] = [];
    const blobs: (GitBlob | undefined)[] = [];
    for (let i = from; i < to; i++) {
      const path = all[i] ?? "";
      files.push(path.slice(skip));
      blobs.push(this.#clean.get(path));
    }
    return { files, blobs };
  }
}

/**
 * The run of a sorted list that starts with `prefix`, found by bisection instead of scanning every file of the
 * project for every source tree (quadratic in a monorepo).
 */
function range(files: readonly string[], prefix: string): [number, number] {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((files[mid] ?? "") < prefix) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < files.length && (files[end] ?? "").startsWith(prefix)) end++;
  return [lo, end];
}

/** A path inside `root` as a project-relative, `/`-separated path, or undefined if outside. */
export function projectRelative(root: string, abs: string): string | undefined {
  const rel = relative(root, abs);
  if (rel === "" ) return "";
  if (rel.startsWith("..") || rel.startsWith(sep)) return undefined;
  return rel.split(sep).join("/");
}
