import { execFile } from "node:child_process";
import { lstat, mkdtemp, open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { BuildError, makeDirs } from "@makes/core";

const run = promisify(execFile);

export type ArchiveKind = "tar" | "tar.gz" | "tar.xz" | "tar.bz2" | "zip";

export interface UnpackResult {
  readonly kind: ArchiveKind;
  /** The single top-level directory that was stripped, if any. */
  readonly strippedRoot: string | undefined;
}

const TAR_FLAGS: Record<Exclude<ArchiveKind, "zip">, string[]> = { tar: [], "tar.gz": ["-z"], "tar.xz": ["-J"], "tar.bz2": ["-j"] };

/**
 * Unpacks `file` into `destDir`, which must not exist yet (or be an empty directory); it appears complete or not
 * at all (the archive is unpacked into a temporary directory beside it, then renamed).
 *
 * - The kind is detected from the file's magic bytes (gzip, xz, bzip2, zip, ustar), then from its name; `kind`
 *   forces it.
 * - Tars are unpacked by GNU tar (`--no-same-owner`, modes kept); zips by Info-ZIP `unzip` (Debian package
 *   `unzip`): both are on every Debian host that builds, and neither needs an npm dependency.
 * - Entries are listed first; an absolute name, a `..` component, or (zip) an entry below a symlink entry
 *   rejects the whole archive (BuildError "bad-output"), as does a device node or FIFO found after unpacking.
 * - Like nixpkgs' fetchzip, when the archive holds exactly one top-level directory (and nothing else) its
 *   contents become `destDir` (the usual `project-1.2.3/` wrapper is stripped); the stripped name is returned.
 * `label` starts every message (default `fetchArchive <file>`).
 */
export async function unpackArchive(file: string, destDir: string, kind?: ArchiveKind, label = `fetchArchive ${file}`): Promise<UnpackResult> {
  const detected = kind ?? (await detectArchiveKind(file));
  if (detected === undefined) {
    throw new BuildError("bad-output", `${label}: not a .tar, .tar.gz, .tar.xz, .tar.bz2 or .zip archive (unknown magic bytes); use fetchUrl for other files`);
  }
  const names = await listEntries(file, detected, label);
  for (const name of names) {
    if (name.startsWith("/") || name.split("/").includes("..")) {
      throw new BuildError("bad-output", `${label}: entry "${name}" would be written outside the destination; refusing to unpack this archive`);
    }
  }

  await makeDirs(dirname(destDir));
  const tmp = await mkdtemp(join(dirname(destDir), `.${basename(destDir)}.unpack-`));
  try {
    await extract(file, tmp, detected, label);
    await rejectSpecialFiles(tmp, label);
    const top = await readdir(tmp);
    const only = top.length === 1 ? top[0] : undefined;
    const strip = only !== undefined && (await lstat(join(tmp, only))).isDirectory();
    await rename(strip ? join(tmp, only) : tmp, destDir);
    return { kind: detected, strippedRoot: strip ? only : undefined };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The archive kind from the first bytes of `file`, then from its name; undefined if neither says. */
export async function detectArchiveKind(file: string): Promise<ArchiveKind | undefined> {
  const handle = await open(file, "r");
  const head = Buffer.alloc(512);
  let length: number;
  try {
    ({ bytesRead: length } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  const starts = (...bytes: number[]): boolean => length >= bytes.length && bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return "tar.gz";
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return "tar.xz";
  if (starts(0x42, 0x5a, 0x68)) return "tar.bz2";
  if (starts(0x50, 0x4b, 0x03, 0x04) || starts(0x50, 0x4b, 0x05, 0x06)) return "zip";
  if (length >= 262 && head.toString("latin1", 257, 262) === "ustar") return "tar";
  const name = file.toLowerCase();
  if (/\.(tar\.gz|tgz)$/.test(name)) return "tar.gz";
  if (/\.(tar\.xz|txz)$/.test(name)) return "tar.xz";
  if (/\.(tar\.bz2|tbz2?)$/.test(name)) return "tar.bz2";
  if (name.endsWith(".zip")) return "zip";
  if (name.endsWith(".tar")) return "tar";
  return undefined;
}

/**
 * Entry names, one per line with literal quoting. A name containing a newline is split in two lines, which
 * can only add component boundaries: the checks on each line stay conservative.
 */
async function listEntries(file: string, kind: ArchiveKind, label: string): Promise<string[]> {
  if (kind !== "zip") {
    const out = await tool("tar", ["-t", ...TAR_FLAGS[kind], "--quoting-style=literal", "-f", file], label);
    return out.split("\n").filter((l) => l !== "");
  }
  const names = (await tool("unzip", ["-Z1", file], label)).split("\n").filter((l) => l !== "");
  // `unzip -Z` long format: 8 columns (mode, version, os, size, type, method, date, time), then the name;
  // symlinks have mode "l…".
  const links = (await tool("unzip", ["-Z", file], label))
    .split("\n")
    .map((l) => /^l\S*(?:\s+\S+){7} (.*)$/.exec(l)?.[1])
    .filter((name): name is string => name !== undefined);
  for (const link of links) {
    const below = names.find((n) => n.startsWith(`${link}/`));
    if (below !== undefined) throw new BuildError("bad-output", `${label}: entry "${below}" lies below the symlink entry "${link}"; refusing to unpack this archive`);
  }
  return names;
}

async function extract(file: string, into: string, kind: ArchiveKind, label: string): Promise<void> {
  if (kind === "zip") {
    await tool("unzip", ["-qq", "-o", file, "-d", into], label, [0, 1]);
  } else {
    await tool("tar", ["-x", ...TAR_FLAGS[kind], "--no-same-owner", "--preserve-permissions", "--warning=no-unknown-keyword", "-f", file, "-C", into], label);
  }
}

/** Runs a host tool; a missing tool or a failure (exit code not in `ok`) becomes a BuildError with its stderr. */
async function tool(cmd: "tar" | "unzip", args: string[], label: string, ok: readonly number[] = [0]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 256 * 1024 * 1024, encoding: "utf8" });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: string | number; stdout?: string; stderr?: string };
    if (e.code === "ENOENT") {
      throw new BuildError("builder-failed", `${label}: \`${cmd}\` is not installed on this host; install it with \`apt-get install ${cmd}\``);
    }
    if (typeof e.code === "number" && ok.includes(e.code)) return e.stdout ?? "";
    const why = (e.stderr ?? "").trim().split("\n").filter(Boolean).at(-1) ?? e.message;
    throw new BuildError("bad-output", `${label}: ${cmd} could not read the archive (${why})`);
  }
}

async function rejectSpecialFiles(dir: string, label: string, top = dir): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await rejectSpecialFiles(path, label, top);
    else if (!entry.isFile() && !entry.isSymbolicLink()) {
      throw new BuildError("bad-output", `${label}: entry "${path.slice(top.length + 1)}" is a device, socket or FIFO; refusing to unpack this archive`);
    }
  }
}
