import { lstat, readlink } from "node:fs/promises";
import { join, posix } from "node:path";

/** Top-level directories that a merged-/usr system turns into symlinks to their `/usr` namesakes. */
export const MERGEABLE = ["bin", "lib", "lib32", "lib64", "libo32", "libx32", "sbin"] as const;

/** Whether a symlink `name -> target` at the top of a root is the merged-/usr link `name -> usr/name` (relative or absolute). */
export function isMergedUsrLink(name: string, target: string): boolean {
  return posix.normalize(target).replace(/^\/+/, "").replace(/\/+$/, "") === `usr/${name}`;
}

/**
 * The names among MERGEABLE that are, at `root`, symlinks to `usr/<name>` (relative or absolute target),
 * sorted. Every package tree gets exactly these links (`bin -> usr/bin`, …) so that trees layered together make
 * a working root, and no two trees disagree about `/bin` being a directory or a symlink.
 */
export async function mergedUsrLinks(root: string): Promise<string[]> {
  const merged: string[] = [];
  for (const name of MERGEABLE) {
    try {
      const path = join(root, name);
      if (!(await lstat(path)).isSymbolicLink()) continue;
      if (isMergedUsrLink(name, await readlink(path))) merged.push(name);
    } catch {
      // Absent: nothing to merge.
    }
  }
  return merged;
}
