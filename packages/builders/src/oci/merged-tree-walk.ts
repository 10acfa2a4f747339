import { lstat, readdir, readlink } from "node:fs/promises";
import { fileInfo, type FileInfo } from "./file-info.js";
import { join } from "node:path";
import { BuildError } from "@makes/core";
import type { LayerPackage } from "./layer-package.js";
import { usrMergeActions } from "./merged-usr-moves.js";
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
  /** Absolute path; undefined for a directory the walk adds (the `usr/` of a package that has only `bin/`). */
  path: string | undefined;
  stats: FileInfo;
  /** The entry's own name in its package when it is written elsewhere (`bin/tool` written as `usr/bin/tool`). */
  movedFrom?: string;
}

/** A parent directory the walk adds for moved entries: 0755, like every parent a package does not have. */
const ADDED_DIRECTORY: FileInfo = { kind: "directory", mode: 0o755, size: 0, nlink: 1, dev: -1, ino: -1 };

/**
 * Walks the packages of one layer merged at `/`: depth-first, children sorted by the bytes of their UTF-8
 * names (so `a/`, `a/b`, `a-b`), every directory emitted before its children. Symlinks are never followed.
 *
 * Merge rule: when several packages have the same path, the package listed LAST in the layer wins, as it would
 * from the layer above had each package a layer of its own (layers are planned dependencies first, later
 * packages above earlier ones); two directories merge (the winner's mode); identical entries are silent;
 * anything else calls onWarning naming the path and both packages. A second name of a file (same dev+ino in the same package) becomes a
 * hardlink to the first name in walk order. A fifo, socket or device, or a `.wh.` name, is a BuildError naming the path.
 *
 * Merged /usr: `mergedUsr` are the names (bin, lib, …) that the IMAGE has as top-level symlinks to `usr/<name>`
 * (see imageMergedUsrLinks). A package with a real directory there has its contents written under `usr/<name>/`
 * and no `<name>/` entry, so that in the unpacked root neither replaces the other: an upper layer's `bin/`
 * directory would replace the `/bin` link (and hide /bin/sh), a lower one would be hidden by it. A moved entry
 * merges with the package's own `usr/<name>/` as if it were another package listed right after it (so the
 * package's `usr/bin/x` wins over its `bin/x`, with a warning when they differ). A file or another symlink
 * at `/<name>` would replace the link: it is left out, with a warning. See usrMergeActions.
 */
export async function walkMergedTree(
  packages: readonly LayerPackage[],
  emit: (entry: TreeEntry) => Promise<void>,
  onWarning: (message: string) => void,
  signal?: AbortSignal,
  mergedUsr: readonly string[] = [],
): Promise<void> {
  const firstNames = new Map<string, string>();
  const roots: Candidate[] = [];
  /** Per package: top-level names not walked there, and the directories walked under `usr/` instead. */
  const skipped: Set<string>[] = [];
  const moved: Candidate[][] = [];
  for (const [pkgIndex, pkg] of packages.entries()) {
    const stats = await lstat(pkg.dir);
    if (!stats.isDirectory()) {
      throw new BuildError("bad-output", `${pkg.name} (${pkg.dir}) is not a directory, so it cannot be a layer of an image`);
    }
    roots.push({ pkg, pkgIndex, path: pkg.dir, stats: fileInfo(stats) });
    const actions = await usrMergeActions(pkg.dir, mergedUsr);
    skipped.push(new Set(actions.map((a) => a.name)));
    const grafts: Candidate[] = [];
    for (const a of actions) {
      if (a.action === "move") {
        const path = join(pkg.dir, a.name);
        grafts.push({ pkg, pkgIndex, path, stats: fileInfo(await lstat(path)), movedFrom: a.name });
      } else {
        const why = a.usrKind === undefined ? `a ${a.kind}` : `a directory but its /usr is a ${a.usrKind}, so it cannot go under /usr/${a.name}`;
        onWarning(
          `${pkg.name} has /${a.name} as ${why}, while /${a.name} is a symlink to usr/${a.name} in this image (merged /usr); ` +
            `the layer leaves ${pkg.name}'s /${a.name} out so that the link stays — put it under /usr/${a.name} in the builder`,
        );
      }
    }
    moved.push(grafts);
  }

  const walk = async (rel: string, dirs: readonly Candidate[]): Promise<void> => {
    const byName = new Map<string, Candidate[]>();
    const add = (name: string, candidate: Candidate): void => {
      const list = byName.get(name) ?? [];
      list.push(candidate);
      byName.set(name, list);
    };
    for (const dir of dirs) {
      const { pkg, pkgIndex } = dir;
      const names = dir.path === undefined ? [] : await readdir(dir.path);
      if (dir.path !== undefined) {
        const parent = dir.path;
        const stats = await Promise.all(names.map(async (n) => fileInfo(await lstat(join(parent, n)))));
        for (const [i, name] of names.entries()) {
          if (rel === "" && skipped[pkgIndex]?.has(name) === true) continue;
          const movedFrom = dir.movedFrom === undefined ? undefined : `${dir.movedFrom}/${name}`;
          add(name, { pkg, pkgIndex, path: join(parent, name), stats: stats[i] as FileInfo, ...(movedFrom === undefined ? {} : { movedFrom }) });
        }
      }
      const grafts = moved[pkgIndex] ?? [];
      if (grafts.length === 0) continue;
      if (rel === "" && !names.includes("usr")) add("usr", { pkg, pkgIndex, path: undefined, stats: ADDED_DIRECTORY });
      // after the package's own usr/ entries: its usr/bin/x comes before its bin/x
      if (rel === "usr") for (const g of grafts) add(g.movedFrom ?? "", g);
    }
    const sorted = [...byName.keys()].sort(compareNames);
    for (const name of sorted) {
      if (signal?.aborted === true) throw new BuildError("interrupted", "Writing an image layer was interrupted");
      const candidates = byName.get(name) ?? [];
      const entryName = rel === "" ? name : `${rel}/${name}`;
      for (const c of candidates) rejectSpecial(c, entryName);
      // The last package wins; within one package its first candidate (its own usr/bin/x before a moved bin/x).
      const winner = candidates.reduce<Candidate | undefined>((best, c) => (best === undefined || c.pkgIndex > best.pkgIndex ? c : best), undefined);
      if (winner === undefined) continue;
      const others = candidates.filter((c) => c !== winner);
      for (const other of others) {
        if (winner.stats.kind === "directory" && other.stats.kind === "directory") continue;
        if (!(await sameContent(winner.path ?? "", winner.stats, other.path ?? "", other.stats))) onWarning(conflictMessage(entryName, winner, other));
      }
      const { stats } = winner;
      const path = winner.path ?? "";
      if (stats.kind === "directory") {
        await emit({ kind: "directory", name: entryName, mode: stats.mode });
        await walk(entryName, candidates.filter((c) => c.stats.kind === "directory"));
      } else if (stats.kind === "symlink") {
        await emit({ kind: "symlink", name: entryName, target: await readlink(path) });
      } else {
        const key = stats.nlink > 1 ? `${winner.pkgIndex}:${stats.dev}:${stats.ino}` : undefined;
        const first = key === undefined ? undefined : firstNames.get(key);
        if (first !== undefined) {
          await emit({ kind: "hardlink", name: entryName, mode: stats.mode, target: first });
        } else {
          if (key !== undefined) firstNames.set(key, entryName);
          await emit({ kind: "file", name: entryName, mode: stats.mode, size: stats.size, path });
        }
      }
    }
  };
  await walk("", roots);
}

/** The warning for two different entries at one path; the winner is the one listed last (or a package's own usr/ entry). */
function conflictMessage(entryName: string, winner: Candidate, other: Candidate): string {
  const source = (c: Candidate): string => (c.movedFrom === undefined ? c.pkg.name : `${c.pkg.name} (its /${c.movedFrom}; ${mergedNote(c.movedFrom)})`);
  if (winner.pkg === other.pkg) {
    const as = (c: Candidate): string => `/${c.movedFrom ?? entryName}`;
    return `${entryName} is in ${winner.pkg.name} twice with different contents, as ${as(winner)} and as ${as(other)} (${mergedNote(other.movedFrom ?? winner.movedFrom ?? "")}); the layer keeps its ${as(winner)}`;
  }
  return `${entryName} is in both ${source(winner)} and ${source(other)} with different contents; the layer keeps the one from ${winner.pkg.name} (listed later, as if in a layer above)`;
}

function mergedNote(movedFrom: string): string {
  const top = movedFrom.split("/")[0] ?? movedFrom;
  return `/${top} is a symlink to usr/${top} in this image, so /${movedFrom} is written as /usr/${movedFrom}`;
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
      `${c.pkg.name} contains a ${kind} at /${entryName} (${c.path ?? ""}); image layers can only hold files, directories and symlinks — remove it in the builder`,
    );
  }
}

/** Byte order of the UTF-8 names (GNU tar --sort=name), not JavaScript's UTF-16 order. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
