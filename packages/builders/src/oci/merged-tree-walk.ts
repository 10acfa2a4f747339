import { lstat, readdir, readlink } from "node:fs/promises";
import { fileInfo, type FileInfo } from "./file-info.js";
import { join } from "node:path";
import { BuildError } from "@makes/core";
import type { LayerPackage } from "./layer-package.js";
import { sameContent } from "./same-content.js";

/** One tar entry of a layer, in walk order. Names are relative, `/`-separated, never `..` or absolute. */
export type TreeEntry =
  | { kind: "directory"; name: string; mode: number }
  | { kind: "file"; name: string; mode: number; size: number; path: string }
  | { kind: "symlink"; name: string; target: string }
  | { kind: "hardlink"; name: string; mode: number; target: string };

interface Candidate {
  pkg: LayerPackage;
  /** Position of the package in the layer: hardlinks are only detected within one package. */
  pkgIndex: number;
  path: string;
  stats: FileInfo;
}

/**
 * Walks the packages of one layer merged at `/`: depth-first, children sorted by the bytes of their UTF-8
 * names (so `a/`, `a/b`, `a-b`), every directory emitted before its children. Symlinks are never followed.
 *
 * Merge rule: when several packages have the same path, the package listed FIRST in the layer wins; two
 * directories merge (the first one's mode wins); identical entries are silent; anything else calls onWarning
 * naming the path and both packages. A second name of a file (same dev+ino in the same package) becomes a
 * hardlink to the first name in walk order. A fifo, socket or device, or a `.wh.` name, is a BuildError naming the path.
 */
export async function walkMergedTree(
  packages: readonly LayerPackage[],
  emit: (entry: TreeEntry) => Promise<void>,
  onWarning: (message: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const firstNames = new Map<string, string>();
  const roots: Candidate[] = [];
  for (const [pkgIndex, pkg] of packages.entries()) {
    const stats = await lstat(pkg.dir);
    if (!stats.isDirectory()) {
      throw new BuildError("bad-output", `${pkg.name} (${pkg.dir}) is not a directory, so it cannot be a layer of an image`);
    }
    roots.push({ pkg, pkgIndex, path: pkg.dir, stats: fileInfo(stats) });
  }

  const walk = async (rel: string, dirs: readonly Candidate[]): Promise<void> => {
    const byName = new Map<string, Candidate[]>();
    for (const dir of dirs) {
      const names = await readdir(dir.path);
      const stats = await Promise.all(names.map(async (n) => fileInfo(await lstat(join(dir.path, n)))));
      for (const [i, name] of names.entries()) {
        const list = byName.get(name) ?? [];
        list.push({ pkg: dir.pkg, pkgIndex: dir.pkgIndex, path: join(dir.path, name), stats: stats[i] as FileInfo });
        byName.set(name, list);
      }
    }
    const sorted = [...byName.keys()].sort(compareNames);
    for (const name of sorted) {
      if (signal?.aborted === true) throw new BuildError("interrupted", "Writing an image layer was interrupted");
      const candidates = byName.get(name) ?? [];
      const entryName = rel === "" ? name : `${rel}/${name}`;
      for (const c of candidates) rejectSpecial(c, entryName);
      const [winner, ...others] = candidates;
      if (winner === undefined) continue;
      for (const other of others) {
        if (winner.stats.kind === "directory" && other.stats.kind === "directory") continue;
        if (!(await sameContent(winner.path, winner.stats, other.path, other.stats))) {
          onWarning(
            `${entryName} is in both ${winner.pkg.name} and ${other.pkg.name} with different contents; ` +
              `the layer keeps the one from ${winner.pkg.name} (listed first)`,
          );
        }
      }
      const { stats } = winner;
      if (stats.kind === "directory") {
        await emit({ kind: "directory", name: entryName, mode: stats.mode });
        await walk(entryName, candidates.filter((c) => c.stats.kind === "directory"));
      } else if (stats.kind === "symlink") {
        await emit({ kind: "symlink", name: entryName, target: await readlink(winner.path) });
      } else {
        const key = stats.nlink > 1 ? `${winner.pkgIndex}:${stats.dev}:${stats.ino}` : undefined;
        const first = key === undefined ? undefined : firstNames.get(key);
        if (first !== undefined) {
          await emit({ kind: "hardlink", name: entryName, mode: stats.mode, target: first });
        } else {
          if (key !== undefined) firstNames.set(key, entryName);
          await emit({ kind: "file", name: entryName, mode: stats.mode, size: stats.size, path: winner.path });
        }
      }
    }
  };
  await walk("", roots);
}

function rejectSpecial(c: Candidate, entryName: string): void {
  const { kind } = c.stats;
  // Consumers apply `.wh.<name>` as a whiteout (it deletes <name> from lower layers) and never extract it:
  // such a file would silently remove files of other layers instead of being in the image.
  if (entryName.split("/").pop()?.startsWith(".wh.") === true) {
    throw new BuildError(
      "bad-output",
      `${c.pkg.name} contains /${entryName}; names starting with ".wh." are whiteouts in OCI layers (they delete files of lower layers) — rename it in the builder`,
    );
  }
  if (kind !== "directory" && kind !== "file" && kind !== "symlink") {
    throw new BuildError(
      "bad-output",
      `${c.pkg.name} contains a ${kind} at /${entryName} (${c.path}); image layers can only hold files, directories and symlinks — remove it in the builder`,
    );
  }
}

/** Byte order of the UTF-8 names (GNU tar --sort=name), not JavaScript's UTF-16 order. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
