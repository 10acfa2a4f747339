import { constants } from "node:fs";
import { chmod, copyFile, lstat, readFile, readlink, symlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { BuildError, ConfigError, storeErrorFrom, makeDirs } from "@makes/core";
import { readDpkgDiversions } from "./dpkg-diversions.js";
import { HostPathResolver } from "./host-path-resolver.js";
import { mergedUsrLinks } from "./merged-usr-links.js";
import type { DebianPackage } from "./parse-dpkg-status.js";
import { debianAccessor } from "./debian-accessor.js";

/** The identity of a package that is enough to find its files and to hash it. */
export type DebianPackageId = Pick<DebianPackage, "name" | "version" | "architecture">;

export interface CopyDebianPackageOptions {
  /** The root file system whose dpkg database and files are read. Default `/`. */
  readonly root?: string;
  /** Keep `/usr/share/{doc,man,info,lintian}`. Default false. */
  readonly keepDocs?: boolean;
}

export interface CopiedDebianPackage extends DebianPackageId {
  readonly files: number;
  readonly symlinks: number;
  /** Directories created in the tree (parents of entries, and empty directories the package lists). */
  readonly directories: number;
  /** Listed paths that are absent on disk (removed conffiles, paths replaced by other packages), sorted. */
  readonly missing: readonly string[];
}

const DOC_DIRS = ["/usr/share/doc", "/usr/share/man", "/usr/share/info", "/usr/share/lintian"];

/**
 * The paths dpkg lists for a package, from `<root>/var/lib/dpkg/info/<name>:<arch>.list` (Multi-Arch: same
 * packages) or `<name>.list`, in the file's order, without the `/.` entry.
 */
export async function listPackageFiles(pkg: Pick<DebianPackage, "name" | "architecture">, root = "/"): Promise<string[]> {
  const info = join(root, "var/lib/dpkg/info");
  for (const file of [`${pkg.name}:${pkg.architecture}.list`, `${pkg.name}.list`]) {
    try {
      const text = await readFile(join(info, file), "utf8");
      return text.split("\n").filter((line) => line !== "" && line !== "/.");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  throw new ConfigError(
    "package-not-installed",
    `${debianAccessor(pkg.name)}: dpkg has no file list for "${pkg.name}:${pkg.architecture}" (${info}/${pkg.name}.list); reinstall it with \`apt-get install --reinstall ${pkg.name}\``,
  );
}

/**
 * Copies an installed package's files into `outDir` (created if needed) as a root file system tree:
 * - every listed path is canonicalised through the host's symlinked directories (HostPathResolver), so on a
 *   merged-/usr host `/bin/ls` lands at `usr/bin/ls`; paths listed twice that way are copied once;
 * - the tree gets the host's merged-/usr top-level links (`bin -> usr/bin`, …; see mergedUsrLinks), whatever
 *   the package contains, so every package tree agrees on them;
 * - regular files are copied (never hardlinked: the store normalises mtimes in place) with their full 12 mode
 *   bits (setuid, setgid, sticky); symlinks are recreated with their target, never followed; ownership is not
 *   copied (the store's owner owns everything);
 * - directories: those that are parents of copied entries, and those the package lists that have nothing listed
 *   below them (empty in the package, e.g. `/var/lib/foo`), with the host's mode; a listed directory whose
 *   contents were all skipped (documentation) is left out; directory contents are never copied wholesale;
 * - skipped: documentation directories unless keepDocs; listed paths absent on disk (reported in `missing`);
 *   sockets, FIFOs and device nodes;
 * - dpkg diversions: a file diverted away from this package by another is taken from (and put at) its
 *   diverted location, where it is on disk.
 * The result records the package's name, version and architecture (what its store hash covers).
 */
export async function copyDebianPackage(pkg: DebianPackageId, outDir: string, options: CopyDebianPackageOptions = {}): Promise<CopiedDebianPackage> {
  const root = options.root ?? "/";
  const resolver = new HostPathResolver(root);
  const links = await mergedUsrLinks(root);
  const diversions = await readDpkgDiversions(root);

  // Canonical paths this package lists (after diversions), and which of them to copy.
  const listed = new Set<string>();
  for (const raw of await listPackageFiles(pkg, root)) {
    const diverted = diversions.find((d) => d.by !== pkg.name && resolver.canonical(d.from) === resolver.canonical(raw));
    const path = resolver.canonical(diverted?.to ?? raw);
    if (path === "/" || links.includes(path.slice(1))) continue;
    listed.add(path);
  }
  const keep = [...listed].filter((p) => options.keepDocs === true || !DOC_DIRS.some((d) => p === d || p.startsWith(`${d}/`))).sort();

  const parentsOfListed = new Set<string>();
  for (const p of listed) for (let d = posix.dirname(p); d !== "/"; d = posix.dirname(d)) parentsOfListed.add(d);
  const missing: string[] = [];
  const entries: { path: string; kind: "file" | "symlink" | "dir"; mode: number }[] = [];
  for (const path of keep) {
    const stat = await lstatOrUndefined(join(root, path));
    if (stat === undefined) missing.push(path);
    else if (stat.isSymbolicLink()) entries.push({ path, kind: "symlink", mode: 0 });
    else if (stat.isFile()) entries.push({ path, kind: "file", mode: stat.mode & 0o7777 });
    else if (stat.isDirectory() && !parentsOfListed.has(path)) entries.push({ path, kind: "dir", mode: stat.mode & 0o7777 });
  }

  // Directories: parents of every entry plus the kept empty ones, created parents first.
  const dirs = new Set<string>();
  for (const entry of entries) {
    if (entry.kind === "dir") dirs.add(entry.path);
    for (let d = posix.dirname(entry.path); d !== "/"; d = posix.dirname(d)) dirs.add(d);
  }
  const sortedDirs = [...dirs].sort();
  await makeDirs(outDir);
  for (const dir of sortedDirs) await makeDirs(join(outDir, dir));

  let files = 0;
  let symlinks = 0;
  await forEachLimited(entries, 16, async (entry) => {
    const src = join(root, entry.path);
    const dest = join(outDir, entry.path);
    try {
      if (entry.kind === "symlink") {
        await symlink(await readlink(src), dest);
        symlinks++;
      } else if (entry.kind === "file") {
        // FICLONE makes a copy-on-write clone where the file system can (a separate inode), else a plain copy.
        await copyFile(src, dest, constants.COPYFILE_FICLONE);
        await chmod(dest, entry.mode);
        files++;
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if ((e.code === "EACCES" || e.code === "EPERM") && e.path === src) {
        throw new BuildError(
          "builder-failed",
          `${debianAccessor(pkg.name)}: cannot read ${entry.path} on this host (${e.code}); run makes as a user that can read the package's files (e.g. root)`,
        );
      }
      throw storeErrorFrom(err, `copying the Debian package ${pkg.name} into the store`);
    }
  });
  for (const name of links) await symlink(`usr/${name}`, join(outDir, name));

  // Modes of directories last and deepest first, so a read-only directory does not block its own contents.
  for (const dir of sortedDirs.reverse()) {
    const stat = await lstatOrUndefined(join(root, dir));
    await chmod(join(outDir, dir), stat?.isDirectory() === true ? stat.mode & 0o7777 : 0o755);
  }

  return {
    name: pkg.name,
    version: pkg.version,
    architecture: pkg.architecture,
    files,
    symlinks,
    directories: dirs.size,
    missing: missing.sort(),
  };
}

async function lstatOrUndefined(path: string): Promise<import("node:fs").Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

/** Runs `fn` over `items` with at most `limit` running at once; rejects with the first failure. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
