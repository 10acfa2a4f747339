/** Reading a makes store the way the tests check it: through the store's real layout. */
import { existsSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
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
