import { existsSync, lstatSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ATTRIBUTES, attributeSources, isAttributes, type GitWhere } from "./git-attributes.js";
import { decodeRecords, nulSeparated } from "./git-records.js";
import { runGit, type GitFailure } from "./run-git.js";

/** A tracked file that git vouches for: its content is the blob `oid` and its mode the one recorded. */
export interface GitBlob {
  readonly oid: string;
  readonly mode: 0o644 | 0o755;
}

export interface GitListing {
  /** What git tracks plus untracked files it does not ignore, relative to the project, unsorted, with repeats. */
  readonly files: string[];
  /**
   * The tracked files whose work-tree content git has just found to be the blob in its index, as raw bytes: no
   * file of this map needs an lstat to be trusted. Empty when git's word cannot stand for the raw bytes (see
   * attributeSources).
   */
  readonly clean: ReadonlyMap<string, GitBlob>;
  /** Paths that are not valid UTF-8, escaped (see escapeInvalid): left out of `files`, refused where a source tree holds one. */
  readonly unreadable: readonly string[];
}

/** The directory holding `.git` (a directory, or a worktree's or submodule's file) at or above `dir`. */
function gitTopLevel(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, ".git"))) return current;
    if (dirname(current) === current) return undefined;
  }
}

function parseWhere(projectDir: string, output: string): GitWhere | undefined {
  const lines = output.split("\n");
  // Two lines and the final newline; a path with a newline in it makes more, and is not guessed at.
  if (lines.length !== 3 || lines[2] !== "" || lines[0] === undefined || lines[1] === undefined) return undefined;
  return { top: resolve(projectDir, lines[0]), infoAttributes: resolve(projectDir, lines[1]) };
}

/**
 * Parses `git ls-files -z -t -v -s -c -m -d [-o]`: `T mode oid stage\tpath` per index entry, where T is H (cached)
 * on the entry's first line, then C (changed) or R (removed) when it differs from the work tree; `? path` per
 * untracked file. A lower-case tag is assume-unchanged, S skip-worktree: neither is a comparison git made.
 */
function parseLsFiles(output: string): GitListing & { readonly untracked: string[] } {
  const files: string[] = [];
  const untracked: string[] = [];
  const clean = new Map<string, GitBlob>();
  let at = 0;
  while (at < output.length) {
    const end = output.indexOf("\0", at);
    const record = output.slice(at, end < 0 ? output.length : end);
    at = end < 0 ? output.length : end + 1;
    if (record.startsWith("? ")) {
      untracked.push(record.slice(2)); // with --others in the same process
      continue;
    }
    const tab = record.indexOf("\t");
    if (tab < 0) continue;
    const path = record.slice(tab + 1);
    const tag = record.charCodeAt(0);
    if (tag !== 72 /* H */) {
      clean.delete(path);
      if (tag !== 67 /* C */ && tag !== 82 /* R */) files.push(path); // h, S, s: listed, but git did not compare them
      continue;
    }
    files.push(path);
    // "100644 <oid> 0": a regular file at stage 0 (not a conflict, a symlink or a submodule).
    const mode = record.slice(2, 8);
    const oid = record.slice(9, tab - 2);
    // A 40-digit id: a SHA-1 repository (a SHA-256 one's blob ids could not be checked against the file's).
    if (record.slice(tab - 2, tab) === " 0" && (mode === "100644" || mode === "100755") && oid.length === 40) {
      clean.set(path, { oid, mode: mode === "100755" ? 0o755 : 0o644 });
    }
  }
  return { files, clean, unreadable: [], untracked };
}

/**
 * Past this size of the index (~80 bytes a file: some 3,000 files), the index entries and the walk for untracked
 * files are asked of two git processes, which run at once; below it one process costs less than starting two.
 */
const SPLIT_ABOVE_INDEX_BYTES = 256 * 1024;

/** The size of the index git will read, if it is where the work tree at `top` keeps it; undefined when unsure. */
function indexBytes(top: string | undefined): number | undefined {
  if (top === undefined || process.env.GIT_DIR !== undefined || process.env.GIT_INDEX_FILE !== undefined) return undefined;
  try {
    let gitDir = join(top, ".git");
    if (!statSync(gitDir).isDirectory()) gitDir = resolve(top, /^gitdir: (.+)$/m.exec(readFileSync(gitDir, "utf8"))?.[1]?.trim() ?? "");
    return statSync(join(gitDir, "index")).size;
  } catch {
    return undefined;
  }
}

/**
 * Asks git for the project's files and which tracked ones are unchanged: git stats them in C and compares
 * content where its racy-clean rule says it must. Undefined outside a work tree; in one, without git on the PATH
 * or when git fails (a damaged index), why: the caller walks the tree instead, and says so.
 */
export async function gitListing(projectDir: string): Promise<GitListing | { readonly walkBecause: GitFailure } | undefined> {
  // Starting git costs tens of milliseconds: not worth it where there is no repository to ask.
  const top = gitTopLevel(projectDir);
  if (top === undefined && process.env.GIT_DIR === undefined) return undefined;
  const trackedArgs = ["ls-files", "-z", "-t", "-v", "-s", "--cached", "--modified", "--deleted"];
  const untrackedArgs = ["ls-files", "-z", "--others", "--exclude-standard"];
  // The untracked walk also lists ignored .gitattributes files (-x '!…' outranks every ignore rule), which git
  // applies all the same; only when there is one is the walk repeated without it, for the true listing.
  const showAttributes = `--exclude=!${ATTRIBUTES}`;
  const split = (indexBytes(top) ?? Infinity) > SPLIT_ABOVE_INDEX_BYTES;
  const [trackedOut, untrackedOut, whereOut] = await Promise.all([
    runGit(projectDir, split ? trackedArgs : [...trackedArgs, "--others", "--exclude-standard", showAttributes]),
    split ? runGit(projectDir, [...untrackedArgs, showAttributes]) : Promise.resolve(Buffer.alloc(0)),
    runGit(projectDir, ["rev-parse", "--show-toplevel", "--git-path", "info/attributes"]),
  ]);
  if (!Buffer.isBuffer(trackedOut)) return { walkBecause: trackedOut };
  if (!Buffer.isBuffer(untrackedOut)) return { walkBecause: untrackedOut };
  if (!Buffer.isBuffer(whereOut)) return { walkBecause: whereOut };
  const where = parseWhere(projectDir, whereOut.toString("utf8"));
  // git lists paths relative to the project only when the project is inside the work tree git uses: with
  // GIT_WORK_TREE naming another, they are that tree's, and its blobs say nothing about the project's files.
  if (where === undefined || !inside(projectDir, where.top)) return undefined;
  const exists = (path: Buffer): boolean => lstatSync(Buffer.concat([Buffer.from(`${projectDir}/`), path]), { throwIfNoEntry: false }) !== undefined;
  const tracked = decodeRecords(trackedOut, (record) => record.subarray(record[0] === 0x3f /* ? */ ? 2 : record.indexOf(0x09 /* tab */) + 1), exists);
  const listing = parseLsFiles(tracked.text);
  let untracked = decodeRecords(untrackedOut, (record) => record, exists);
  let untrackedFiles = split ? nulSeparated(untracked.text) : listing.untracked;
  const converting = attributeSources(projectDir, where, listing.files, untrackedFiles);
  if (untrackedFiles.some(isAttributes)) {
    const walked = await runGit(projectDir, untrackedArgs);
    if (!Buffer.isBuffer(walked)) return { walkBecause: walked };
    untracked = decodeRecords(walked, (record) => record, exists);
    untrackedFiles = nulSeparated(untracked.text);
  }
  return {
    files: listing.files.concat(untrackedFiles),
    clean: converting ? new Map() : listing.clean,
    unreadable: [...tracked.invalid, ...untracked.invalid],
  };
}

function inside(dir: string, top: string): boolean {
  let real = top;
  try {
    real = realpathSync(top);
  } catch {
    // as git printed it
  }
  return dir === real || dir.startsWith(`${real}/`) || dir === top || dir.startsWith(`${top}/`);
}

