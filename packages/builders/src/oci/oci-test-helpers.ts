/** Shared by the oci tests: temp dirs, running the real consumers, and snapshots of trees to compare. */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { LayerPackage } from "./layer-package.js";

const execFileP = promisify(execFile);

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }, prefix = "makes-oci-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a command; resolves with stdout, rejects with an error carrying stderr. */
export async function run(cmd: string, args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { ...options, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.message}\n${e.stderr ?? ""}`);
  }
}

export type Spec =
  | { path: string; file: string | Buffer; mode?: number }
  | { path: string; dir: true; mode?: number }
  | { path: string; symlink: string };

/** Makes a package tree: every path with an explicit chmod (parents 0755 unless listed), so umask never matters. */
export async function makeTree(root: string, specs: readonly Spec[]): Promise<string> {
  await mkdir(root, { recursive: true });
  await chmod(root, 0o755);
  const ensureParents = async (rel: string): Promise<void> => {
    const parts = rel.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = join(root, ...parts.slice(0, i));
      try {
        await lstat(dir);
      } catch {
        await mkdir(dir);
        await chmod(dir, 0o755);
      }
    }
  };
  for (const spec of specs) {
    await ensureParents(spec.path);
    const abs = join(root, spec.path);
    if ("file" in spec) {
      await writeFile(abs, spec.file);
      await chmod(abs, spec.mode ?? 0o644);
    } else if ("dir" in spec) {
      await mkdir(abs, { recursive: true });
      await chmod(abs, spec.mode ?? 0o755);
    } else {
      await symlink(spec.symlink, abs);
    }
  }
  return root;
}

export function pkg(id: string, dir: string, refs: string[] = [], name = id): LayerPackage {
  return { id, name, dir, refs };
}

export interface SnapEntry {
  path: string;
  type: "dir" | "file" | "symlink";
  mode: number;
  uid: number;
  gid: number;
  target?: string;
  sha256?: string;
  ino?: number;
}

/** Every entry under root (root itself excluded), sorted by path, with what a layer must preserve. */
export async function snapshot(root: string): Promise<SnapEntry[]> {
  const out: SnapEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(root, rel))) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const abs = join(root, r);
      const s = await lstat(abs);
      const base = { path: r, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, ino: s.ino };
      if (s.isDirectory()) {
        out.push({ ...base, type: "dir" });
        await walk(r);
      } else if (s.isSymbolicLink()) {
        out.push({ ...base, type: "symlink", target: await readlink(abs) });
      } else {
        out.push({ ...base, type: "file", sha256: createHash("sha256").update(await readFile(abs)).digest("hex") });
      }
    }
  };
  await walk("");
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** A snapshot without owner and inode, and with symlink modes dropped (Linux reports 0777 for all). */
export function shape(entries: readonly SnapEntry[]): unknown[] {
  return entries.map(({ path, type, mode, target, sha256 }) => ({ path, type, mode: type === "symlink" ? 0o777 : mode, target, sha256 }));
}

/** `tar -tv` style listing of a gzip layer by GNU tar: names in order (with `/` on directories). */
export async function gnuTarNames(layerFile: string): Promise<string[]> {
  const out = await run("tar", ["--quoting-style=literal", "-tzf", layerFile]);
  return out.split("\n").filter((l) => l !== "");
}

export async function gnuTarVerbose(layerFile: string): Promise<string[]> {
  const out = await run("tar", ["--quoting-style=literal", "--numeric-owner", "-tvzf", layerFile]);
  return out.split("\n").filter((l) => l !== "");
}

export async function gnuTarExtract(layerFile: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  await run("tar", ["--same-permissions", "--same-owner", "--numeric-owner", "-xzf", layerFile, "-C", into]);
}

export async function writeText(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}
