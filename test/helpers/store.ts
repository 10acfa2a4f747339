/** Reading a makes store the way the tests check it: through the store's real layout. */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { StoreLayout, type StoreMeta } from "@makes/core";

/** The layout of a project's default store (`<project>/.makes`) or of the store at `root`. */
export function storeOf(projectOrRoot: string, options: { root?: boolean } = {}): StoreLayout {
  return new StoreLayout(options.root === true ? projectOrRoot : join(projectOrRoot, ".makes"));
}

/** Entries of `store/`: `<hash>-<name>`. */
export async function storeEntries(layout: StoreLayout): Promise<string[]> {
  return (await readdir(layout.storeDir).catch(() => [] as string[])).sort();
}

/** Hashes that have metadata (what makes treats as valid when the path exists). */
export async function metaHashes(layout: StoreLayout): Promise<string[]> {
  const files = await readdir(layout.metaDir).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}

export async function readMeta(layout: StoreLayout, hash: string): Promise<StoreMeta | undefined> {
  try {
    return JSON.parse(await readFile(layout.metaPath(hash), "utf8")) as StoreMeta;
  } catch {
    return undefined;
  }
}

/** Store paths that look valid: metadata present and the output present. */
export async function validPaths(layout: StoreLayout): Promise<string[]> {
  const valid: string[] = [];
  for (const hash of await metaHashes(layout)) {
    const meta = await readMeta(layout, hash);
    if (meta !== undefined && existsSync(layout.storePath(hash, meta.name))) valid.push(layout.storePath(hash, meta.name));
  }
  return valid.sort();
}

/** The hash part of a store path (`.../store/<hash>-<name>`). */
export function hashOfPath(path: string): string {
  return basename(path).slice(0, 32);
}

/** Where the out-link of `job` points (absolute), or undefined. */
export async function outLinkTarget(layout: StoreLayout, job: string): Promise<string | undefined> {
  const link = layout.outLink(job);
  try {
    return resolve(dirname(link), await readlink(link));
  } catch {
    return undefined;
  }
}

/**
 * What a store holds that must never change on bad input: every entry of store/ (with a digest of
 * its content), meta/, out/ and jobs/; and whether tmp/ and locks/ are empty.
 */
export async function storeSnapshot(layout: StoreLayout): Promise<Record<string, string>> {
  const snap: Record<string, string> = {};
  const visit = async (abs: string, rel: string): Promise<void> => {
    let st;
    try {
      st = await lstat(abs);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) snap[rel] = `-> ${await readlink(abs)}`;
    else if (st.isDirectory()) {
      snap[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
      for (const name of (await readdir(abs)).sort()) await visit(join(abs, name), `${rel}/${name}`);
    } else snap[rel] = `file ${(st.mode & 0o7777).toString(8)} ${createHash("sha256").update(await readFile(abs)).digest("hex")}`;
  };
  for (const [name, dir] of [["store", layout.storeDir], ["meta", layout.metaDir], ["out", layout.outDir], ["jobs", layout.jobsDir]] as const) {
    await visit(dir, name);
  }
  for (const [name, dir] of [["tmp", layout.tmpDir], ["locks", layout.locksDir]] as const) {
    const left = await readdir(dir).catch(() => [] as string[]);
    if (left.length > 0) snap[name] = `not empty: ${left.join(", ")}`;
  }
  return snap;
}
