import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { isInside } from "./watch-paths.js";

/**
 * Where the watcher points for a set of wanted paths (config files, source trees), some of which may be
 * missing: a tree deleted by `rm -rf` or a `git checkout`, a config file that is gone. chokidar stops
 * watching a path once it is deleted and never sees it come back, so a missing path is watched through
 * its nearest existing ancestor directory (its stand-in), narrowed by `ignored` to the directories on
 * the way down to it: its re-creation is an event, the rest of that directory is never even read.
 */
export interface WatchRoots {
  /** What to give chokidar: the wanted paths that exist and the stand-ins of the missing ones, sorted. */
  readonly roots: readonly string[];
  /** The wanted paths that do not exist, sorted. */
  readonly missing: readonly string[];
  /** True for a path that is only below a stand-in: neither wanted nor on the way to a missing path. */
  readonly ignored: (path: string) => boolean;
  /**
   * Equal for two results that watch the same paths the same way. It includes the identity (inode and
   * birth time) of each directory root, because a directory replaced faster than chokidar looks (a
   * checkout, `rm -rf src && mkdir src`) is not reported as deleted, yet chokidar goes on watching the
   * old, deleted one. (A replaced file — an editor's atomic save — chokidar follows by itself.)
   */
  readonly key: string;
}

export function watchRoots(wanted: Iterable<string>): WatchRoots {
  const present = new Set<string>();
  const missing = new Set<string>();
  const standIns = new Set<string>();
  for (const path of wanted) {
    if (existsSync(path)) present.add(path);
    else {
      missing.add(path);
      standIns.add(nearestDirectory(dirname(path)));
    }
  }
  const roots = [...new Set([...present, ...standIns])].sort();
  const missingSorted = [...missing].sort();
  const identities = roots.map((r) => `${r}\0${identityOf(r)}`);
  const standInList = [...standIns];
  const presentList = [...present];
  // Called for every path chokidar meets: without a missing path (the usual case) it is a constant.
  const ignored =
    standInList.length === 0
      ? () => false
      : (path: string): boolean => {
          if (!standInList.some((s) => path !== s && isInside(path, s))) return false;
          if (presentList.some((p) => isInside(path, p))) return false;
          return !missingSorted.some((m) => isInside(path, m) || isInside(m, path));
        };
  return { roots, missing: missingSorted, ignored, key: `${identities.join("\n")}\n\n${missingSorted.join("\n")}` };
}

function identityOf(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return st.isDirectory() ? `${st.dev}:${st.ino}:${st.birthtimeNs}` : "file";
  } catch {
    return "gone"; // deleted since: the next iteration looks again
  }
}

/** `dir` or its nearest ancestor that is an existing directory (`/` at worst). */
function nearestDirectory(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (isDirectory(d) || dirname(d) === d) return d;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false; // ENOTDIR (a file on the way), EACCES: nothing to watch there
  }
}
