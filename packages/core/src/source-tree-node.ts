import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { readlink } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { BuildError, ConfigError } from "./errors.js";
import { MakesNode, type Fingerprint } from "./makes-node.js";
import { fingerprintOf } from "./fingerprint-of.js";
import { Encoded } from "./canonical-hash.js";
import type { FingerprintContext, ListedFile } from "./fingerprint-context.js";
import type { BuildContext } from "./build-context.js";
import { copySourceTree, type SourceEntry } from "./copy-source-tree.js";

/** The entry of a file whose mode and digest came with the listing (git vouches for it), else undefined. */
function knownEntry(file: ListedFile): SourceEntry | undefined {
  return file.digest === undefined || file.mode === undefined ? undefined : { path: file.path, type: "file", mode: file.mode, value: file.digest };
}

/**
 * The root of a source tree must be a real directory. A symlink is refused rather than followed: the tree
 * would be listed and hashed through a path git does not track as a directory (git records the link
 * itself), and could point outside the project. The message names the directory it points to.
 */
function checkSourceRoot(projectDir: string, relDir: string, root: string): void {
  if (relDir === "") return; // the project's own directory
  const where = `projectPath("/${relDir}")`;
  // The first symlink on the way, the root itself included: a linked parent is as much a way out of the tree.
  let link: string | undefined;
  let st;
  const parts = relDir.split("/");
  for (let n = 1; n <= parts.length; n++) {
    const path = join(projectDir, ...parts.slice(0, n));
    try {
      st = lstatSync(path, { throwIfNoEntry: false });
    } catch {
      st = null; // ENOTDIR (a file on the way), EACCES: not a directory makes can read
    }
    if (st?.isSymbolicLink() === true) {
      link = path;
      break;
    }
    if (st?.isDirectory() !== true) break;
  }
  if (link === undefined && st?.isDirectory() === true) return;
  if (link !== undefined) {
    let target = "";
    let real: string | undefined;
    try {
      target = readlinkSync(link);
      real = realpathSync(root);
    } catch {
      // a dangling link: its target is still worth showing
    }
    const inside = real === undefined ? undefined : relative(realpathSync(projectDir), real);
    const fix =
      inside !== undefined && inside !== ".." && !inside.startsWith(`..${sep}`) && lstatSync(real as string).isDirectory()
        ? `name the real directory instead: projectPath(${JSON.stringify(`/${inside.split(sep).join("/")}`)})`
        : "name a real directory of the project instead";
    const what = link === root ? `${root} is a symlink` : `${link}, on the way to ${root}, is a symlink`;
    throw new ConfigError("bad-argument", `${where}: ${what} (to ${JSON.stringify(target)}), not a directory; source trees are not followed through symlinks: ${fix}`);
  }
  const what = st === undefined ? "does not exist" : "is not a directory";
  throw new ConfigError("bad-argument", `${where}: ${root} ${what}; a source tree is a directory of the project: create it or fix the path`);
}

/**
 * `projectPath("/dir")`: a directory of the project copied into the store by content. Its hash covers
 * each file's relative path, normalised mode and digest (or symlink target); never where the project
 * lives. What git ignores is left out; `.git`, `.makes` and `node_modules` always are.
 */
export class SourceTreeNode extends MakesNode {
  readonly kind = "source";
  readonly relDir: string;
  #entries: readonly SourceEntry[] | undefined;

  constructor(projectRelPath: string) {
    // Any value may arrive here from makes.ts: show strings quoted and cut short, other values by their type.
    const shown = (): string =>
      typeof projectRelPath === "string" ? JSON.stringify(projectRelPath.length > 120 ? `${projectRelPath.slice(0, 120)}…` : projectRelPath) : projectRelPath === null ? "null" : typeof projectRelPath;
    if (typeof projectRelPath !== "string" || !projectRelPath.startsWith("/")) {
      throw new ConfigError(
        "bad-argument",
        `projectPath(${shown()}): the path must be a string starting with "/" (relative to the project root), for example projectPath("/src")`,
      );
    }
    const parts = projectRelPath.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.includes("..") || projectRelPath.includes("\0")) {
      throw new ConfigError("bad-argument", `projectPath(${shown()}): the path must stay inside the project (no ".." and no NUL bytes)`);
    }
    super(parts.length === 0 ? "source" : sanitiseName(parts[parts.length - 1] ?? "source"));
    this.relDir = parts.join("/");
  }

  /** `projectPath(/packages/web/src)`: several trees share a last segment such as `src`, their paths do not. */
  override get label(): string {
    return `projectPath(/${this.relDir})`;
  }

  deps(): readonly MakesNode[] {
    return [];
  }

  /** The entries read by the last fingerprint, in order. */
  get entries(): readonly SourceEntry[] | undefined {
    return this.#entries;
  }

  /**
   * A tree whose every file git vouches for, once the listing is in: no syscall at all. A tree with files
   * needs no check of its root either: git lists nothing under a symlink or a file, only inside a directory.
   */
  override fingerprintSync(ctx: FingerprintContext): Fingerprint | undefined {
    const files = ctx.listSourceFilesSync(this.relDir);
    if (files === undefined || files.length === 0) return undefined;
    const entries: SourceEntry[] = [];
    for (const file of files) {
      const entry = knownEntry(file);
      if (entry === undefined) return undefined;
      entries.push(entry);
    }
    return this.#fingerprintOf(entries);
  }

  async fingerprint(ctx: FingerprintContext): Promise<Fingerprint> {
    const root = join(ctx.projectDir, this.relDir);
    const files = await ctx.listSourceFiles(this.relDir);
    if (files.length === 0) checkSourceRoot(ctx.projectDir, this.relDir, root);
    const prefix = this.relDir === "" ? "" : `${this.relDir}/`;
    const entries: (SourceEntry | undefined)[] = new Array(files.length);
    const unknown: number[] = [];
    files.forEach((file, index) => {
      entries[index] = knownEntry(file);
      if (entries[index] === undefined) unknown.push(index);
    });
    await Promise.all(
      unknown.map(async (index) => {
        const rel = files[index]?.path ?? "";
        const abs = join(root, rel);
        // Synchronous: a monorepo has thousands of files and each is one cheap lstat; the promise API
        // costs several times more per call than the call itself.
        try {
          const st = lstatSync(abs, { throwIfNoEntry: false });
          if (st === undefined) return; // listed by git but deleted: not part of the tree
          if (st.isSymbolicLink()) {
            entries[index] = { path: rel, type: "symlink", mode: 0o777, value: await readlink(abs) };
          } else if (st.isFile()) {
            entries[index] = { path: rel, type: "file", mode: st.mode & 0o100 ? 0o755 : 0o644, value: await ctx.fileDigest(abs, st, prefix + rel) };
          }
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === "EACCES" || code === "EPERM") {
            throw new BuildError("unreadable-source", `projectPath("/${this.relDir}"): cannot read ${prefix + rel} (${code === "EACCES" ? "permission denied" : "operation not permitted"}); make it readable by this user, or move it out of the tree`);
          }
          // Gone or changed type since it was listed (an editor's save by rename, a checkout turning a directory
          // into a file, a symlink replaced): as if it had been gone already; the next run sees the tree as it
          // is then. (EINVAL: readlink of what is no longer a symlink.)
          if (code !== "ENOENT" && code !== "ENOTDIR" && code !== "EINVAL") throw err;
        }
      }),
    );
    const present = entries.filter((e): e is SourceEntry => e !== undefined);
    // Files listed (by git's index) but none on disk: the tree itself may be gone, which is an error, not an empty tree.
    if (present.length === 0 && files.length > 0) checkSourceRoot(ctx.projectDir, this.relDir, root);
    return this.#fingerprintOf(present);
  }

  #fingerprintOf(entries: readonly SourceEntry[]): Fingerprint {
    this.#entries = entries;
    return fingerprintOf({ entries: Encoded.rows(entries.map((e) => [e.path, e.type, e.mode, e.value])) }, () => {
      const inputs: Record<string, string> = {};
      for (const e of entries) inputs[`file:${e.path}`] = `${e.type === "symlink" ? "symlink" : e.mode.toString(8)} ${e.value}`;
      return inputs;
    });
  }

  async build(ctx: BuildContext): Promise<void> {
    const entries = this.#entries;
    if (entries === undefined) throw new Error("internal: source tree built before it was fingerprinted");
    await copySourceTree(join(ctx.projectDir, this.relDir), ctx.out, entries, `projectPath("/${this.relDir}")`, ctx.signal);
  }
}

/** Store names keep to a safe set of characters (as Nix's do). */
export function sanitiseName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9+._?=-]/g, "_").replace(/^\.+/, "");
  return cleaned === "" ? "source" : cleaned;
}
