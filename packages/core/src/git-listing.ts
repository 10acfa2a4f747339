import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fstatSync, lstatSync, openSync, readFileSync, readSync, realpathSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

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

/**
 * Settings that make git's "unchanged" mean "the raw bytes are the index blob, with this mode", whatever the
 * user's configuration says: no file-system monitor or assume-unchanged shortcut, the executable bit and
 * symlinks compared, stat data compared in full, and no line-ending conversion when git compares content.
 * (attributesFile: the user's global attributes, which could also convert; GIT_ATTR_NOSYSTEM drops the
 * system's.)
 */
const TRUSTWORTHY = [
  "core.fsmonitor=false",
  "core.ignoreStat=false",
  "core.fileMode=true",
  "core.symlinks=true",
  "core.checkStat=default",
  "core.trustctime=true",
  "core.autocrlf=false",
  "core.attributesFile=/dev/null",
].flatMap((setting) => ["-c", setting]);

/** The directory holding `.git` (a directory, or a worktree's or submodule's file) at or above `dir`. */
export function gitTopLevel(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, ".git"))) return current;
    if (dirname(current) === current) return undefined;
  }
}

const ATTRIBUTES = ".gitattributes";
const isAttributes = (path: string): boolean => path === ATTRIBUTES || path.endsWith(`/${ATTRIBUTES}`);

/** Attributes that change bytes between the work tree and the blob (a macro, `[attr]`, could set any of them). */
const CONVERTING = new Set(["text", "eol", "crlf", "ident", "filter", "working-tree-encoding"]);

/**
 * Whether an attributes file could make git convert: a line that sets one of CONVERTING (`-text` and `!text` do
 * not), or defines a macro. Patterns are not matched: any line counts. `binary`, `diff`, `merge`, `linguist-*`,
 * `export-ignore` and the like change no bytes, so a repository that only says which files are binary keeps the
 * fast path. A file that cannot be read counts as converting.
 */
function mayConvert(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("[attr]")) return true;
    // The first token is the pattern (a quoted one with spaces only adds tokens, which is on the safe side).
    for (const token of line.split(/\s+/).slice(1)) {
      if (token.startsWith("-") || token.startsWith("!")) continue;
      if (CONVERTING.has(token.split("=")[0] ?? "")) return true;
    }
  }
  return false;
}

/**
 * Whether gitattributes could make git's content comparison convert (text/eol, ident, a filter such as LFS,
 * working-tree-encoding; see mayConvert): then a file git calls unchanged may hold other bytes than its blob.
 * Looked for where git looks, with the repository and its top as git itself resolves them (GIT_DIR, a stray `.git`
 * between): its `info/attributes`, `.gitattributes` in the directories from the top down to the project, the ones
 * git lists (tracked, even if only in the index, or untracked, ignored or not: see gitListing), and any in a
 * directory of tracked files, which may be inside an ignored directory that the untracked walk does not enter.
 * (One `access` per such directory costs less than asking git which tracked files are ignored, which matches every
 * path.)
 */
function attributeSources(projectDir: string, where: GitWhere, tracked: readonly string[], untracked: readonly string[]): boolean {
  if (mayConvert(where.infoAttributes)) return true;
  for (const listed of [tracked, untracked]) {
    for (const path of listed) {
      // Listed but gone from the work tree: git reads the index's copy, which is not looked at here.
      if (isAttributes(path) && (!existsSync(join(projectDir, path)) || mayConvert(join(projectDir, path)))) return true;
    }
  }
  for (let dir = projectDir; dir !== dirname(dir) && `${dir}/`.startsWith(`${where.top}/`); dir = dirname(dir)) {
    if (dir !== projectDir && mayConvert(join(dir, ATTRIBUTES))) return true;
    if (dir === where.top) break;
  }
  let last = "";
  const dirs = new Set<string>();
  for (const file of tracked) {
    const slash = file.lastIndexOf("/");
    if (slash < 0) continue;
    const dir = file.slice(0, slash);
    // Index order: a directory's files come together, so most files add nothing.
    if (dir === last) continue;
    last = dir;
    for (let end = dir.length; end > 0 && !dirs.has(dir.slice(0, end)); end = dir.lastIndexOf("/", end - 1)) dirs.add(dir.slice(0, end));
  }
  for (const dir of dirs) {
    const file = join(projectDir, dir, ATTRIBUTES);
    if (existsSync(file) && mayConvert(file)) return true;
  }
  return false;
}

/** Where git says the work tree's top and the repository's attributes file are. */
interface GitWhere {
  readonly top: string;
  readonly infoAttributes: string;
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
export function parseLsFiles(output: string): GitListing & { readonly untracked: string[] } {
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
 * Runs git with its output going to an unlinked temporary file rather than a pipe: the index listing is ~80
 * bytes per file, far more than a pipe holds, and makes.ts is being evaluated meanwhile, so git would stall on
 * a full pipe until the event loop is free to read it (measured: 40 ms of git became 130 ms). Falls back to a
 * pipe where no temporary file can be made.
 */
function git(projectDir: string, args: readonly string[]): Promise<Buffer | undefined> {
  let fd: number | undefined;
  try {
    const path = join(tmpdir(), `makes-git-${process.pid}-${randomBytes(6).toString("hex")}`);
    fd = openSync(path, "w+", 0o600);
    unlinkSync(path);
  } catch {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  }
  const out = fd;
  return new Promise((resolveOutput) => {
    const piped: Buffer[] = [];
    const child = spawn("git", [...TRUSTWORTHY, ...args], {
      cwd: projectDir,
      stdio: ["ignore", out ?? "pipe", "ignore"],
      env: { ...process.env, GIT_ATTR_NOSYSTEM: "1" },
    });
    child.stdout?.on("data", (chunk: Buffer) => piped.push(chunk));
    let settled = false;
    // Once: a git that cannot be started reports an error and then a close.
    const done = (output: Buffer | undefined): void => {
      if (settled) return;
      settled = true;
      if (out !== undefined) closeSync(out);
      resolveOutput(output);
    };
    // An error or a failure: not a work tree after all, or no git: the caller walks the tree instead.
    child.on("error", () => done(undefined));
    child.on("close", (code) => {
      if (code !== 0) return done(undefined);
      if (out === undefined) return done(Buffer.concat(piped));
      try {
        const size = fstatSync(out).size;
        const buffer = Buffer.allocUnsafe(size);
        let read = 0;
        while (read < size) {
          const n = readSync(out, buffer, read, size - read, read);
          if (n === 0) break;
          read += n;
        }
        done(buffer.subarray(0, read));
      } catch {
        done(undefined);
      }
    });
  });
}

/**
 * Past this size of the index (~80 bytes a file: some 3,000 files), the index entries and the walk for untracked
 * files are asked of two git processes, which run at once; below it one process costs less than starting two.
 */
const SPLIT_ABOVE_INDEX_BYTES = 256 * 1024;

/** The size of the index git will read, if it is where a plain work tree keeps it; undefined when unsure. */
function indexBytes(projectDir: string): number | undefined {
  if (process.env.GIT_DIR !== undefined || process.env.GIT_INDEX_FILE !== undefined) return undefined;
  const top = gitTopLevel(projectDir);
  if (top === undefined) return undefined;
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
 * content where its racy-clean rule says it must. Undefined outside a work tree or without git: the caller walks
 * the tree instead.
 */
export async function gitListing(projectDir: string): Promise<GitListing | undefined> {
  // Starting git costs tens of milliseconds: not worth it where there is no repository to ask.
  if (gitTopLevel(projectDir) === undefined && process.env.GIT_DIR === undefined) return undefined;
  const trackedArgs = ["ls-files", "-z", "-t", "-v", "-s", "--cached", "--modified", "--deleted"];
  const untrackedArgs = ["ls-files", "-z", "--others", "--exclude-standard"];
  // The untracked walk also lists ignored .gitattributes files (-x '!…' outranks every ignore rule), which git
  // applies all the same; only when there is one is the walk repeated without it, for the true listing.
  const showAttributes = `--exclude=!${ATTRIBUTES}`;
  const split = (indexBytes(projectDir) ?? Infinity) > SPLIT_ABOVE_INDEX_BYTES;
  const [trackedOut, untrackedOut, whereOut] = await Promise.all([
    git(projectDir, split ? trackedArgs : [...trackedArgs, "--others", "--exclude-standard", showAttributes]),
    split ? git(projectDir, [...untrackedArgs, showAttributes]) : Promise.resolve(Buffer.alloc(0)),
    git(projectDir, ["rev-parse", "--show-toplevel", "--git-path", "info/attributes"]),
  ]);
  if (trackedOut === undefined || untrackedOut === undefined || whereOut === undefined) return undefined;
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
    const walked = await git(projectDir, untrackedArgs);
    if (walked === undefined) return undefined;
    untracked = decodeRecords(walked, (record) => record, exists);
    untrackedFiles = nulSeparated(untracked.text);
  }
  return {
    files: listing.files.concat(untrackedFiles),
    clean: converting ? new Map() : listing.clean,
    unreadable: [...tracked.invalid, ...untracked.invalid],
  };
}

function nulSeparated(text: string): string[] {
  const parts = text.split("\0");
  parts.pop(); // the empty string after the last NUL
  return parts;
}

/**
 * git's NUL-separated records as text, without those whose path is not valid UTF-8: such a name has no JS string
 * that names the same file, so it is left out of the text and, if it exists on disk (the index can hold a deleted
 * one), returned escaped (`\xff`) in `invalid`.
 */
function decodeRecords(output: Buffer, pathOf: (record: Buffer) => Buffer, exists: (path: Buffer) => boolean): { text: string; invalid: string[] } {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  try {
    return { text: decoder.decode(output), invalid: [] };
  } catch {
    const kept: string[] = [];
    const invalid = new Set<string>();
    let at = 0;
    while (at < output.length) {
      const end = output.indexOf(0, at);
      const record = output.subarray(at, end < 0 ? output.length : end);
      at = end < 0 ? output.length : end + 1;
      try {
        kept.push(`${decoder.decode(record)}\0`);
      } catch {
        const path = pathOf(record);
        if (exists(path)) invalid.add(escapeInvalid(path));
      }
    }
    return { text: kept.join(""), invalid: [...invalid] };
  }
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

/** A name with its bytes that are not UTF-8 written as `\xNN`, for messages. */
export function escapeInvalid(bytes: Buffer): string {
  let out = "";
  for (let at = 0; at < bytes.length; ) {
    let length = 1;
    for (let n = Math.min(4, bytes.length - at); n > 0; n--) {
      try {
        out += new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(at, at + n));
        length = n;
        break;
      } catch {
        if (n === 1) out += `\\x${(bytes[at] ?? 0).toString(16).padStart(2, "0")}`;
      }
    }
    at += length;
  }
  return out;
}
