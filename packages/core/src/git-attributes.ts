import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Where git says the work tree's top and the repository's attributes file are. */
export interface GitWhere {
  readonly top: string;
  readonly infoAttributes: string;
}

export const ATTRIBUTES = ".gitattributes";
export const isAttributes = (path: string): boolean => path === ATTRIBUTES || path.endsWith(`/${ATTRIBUTES}`);

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
export function attributeSources(projectDir: string, where: GitWhere, tracked: readonly string[], untracked: readonly string[]): boolean {
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
