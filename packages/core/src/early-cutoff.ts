import { createReadStream } from "node:fs";
import { chmod, copyFile, lstat, mkdir, readdir, readFile, readlink, symlink } from "node:fs/promises";
import { constants } from "node:fs";
import { join } from "node:path";
import { Encoded, nodeHashOf, type Canonical } from "./canonical-hash.js";
import type { HashedNode } from "./hash-graph.js";
import type { MakesNode } from "./makes-node.js";
import type { Store } from "./store.js";
import { writeFileAtomic } from "./write-file-atomic.js";
import { NeedleSearch } from "./needle-search.js";
import { treeDigest } from "./tree-digest.js";

/**
 * Early cutoff. A node's hash covers its dependencies' hashes, so editing a dependency's input in a way
 * that leaves the dependency's output byte-identical (a comment its builder strips) still gives every
 * dependent a new hash. The cutoff key is the node's hash input with each dependency's hash replaced by
 * the digest of that dependency's output: equal keys mean the builder would see the same inputs, by
 * content. A node whose key was built before gets a copy of that output instead of a rebuild, provided
 * the output spells no store path that differs between the two (its own, or a dependency's that changed);
 * those outputs are always rebuilt. This trusts what every cache here trusts: that a builder's output is a
 * function of its inputs' contents (and not, say, of the length of a dependency's store path).
 */
export const CUTOFF_KEY_VERSION = "makes-cutoff-v1";

/** The key, or undefined when a dependency has no recorded output digest (so no reuse is possible). */
export async function cutoffKeyOf(store: Store, node: MakesNode, hashed: HashedNode, deps: ReadonlyArray<{ hash: string; name: string }>): Promise<string | undefined> {
  const digests = new Map<string, string>();
  for (const dep of deps) {
    const meta = await store.validMeta(dep.hash, dep.name);
    if (meta === undefined) return undefined;
    digests.set(dep.hash, meta.contentDigest);
  }
  const substitute = (value: Canonical | undefined): Canonical | undefined => {
    if (typeof value === "string") {
      let text = value;
      for (const [hash, digest] of digests) text = text.split(hash).join(`content:${digest}`);
      return text;
    }
    // An Encoded value is a source tree's entries: no dependency hash is in it.
    if (value === null || value === undefined || typeof value !== "object" || Buffer.isBuffer(value) || value instanceof Encoded) return value;
    if (Array.isArray(value)) return (value as readonly Canonical[]).map((v) => substitute(v) ?? null);
    const record = value as { readonly [key: string]: Canonical | undefined };
    return Object.fromEntries(Object.keys(record).map((k) => [k, substitute(record[k])]));
  };
  const key = substitute(hashed.fingerprint.key) ?? null;
  return nodeHashOf({ version: CUTOFF_KEY_VERSION, kind: node.kind, name: node.name, key, deps: deps.map((d) => `content:${digests.get(d.hash) ?? ""}`) });
}

/** The hash of the store path last built (or reused) under `key`, if one was recorded. */
export async function readCutoff(store: Store, key: string): Promise<string | undefined> {
  const text = await readFile(store.layout.cutoffPath(key), "utf8").catch(() => undefined);
  return text !== undefined && /^[0-9a-z]{32}$/.test(text.trim()) ? text.trim() : undefined;
}

export async function recordCutoff(store: Store, key: string, hash: string): Promise<void> {
  await writeFileAtomic(store.layout.cutoffPath(key), hash);
}

async function fileContains(path: string, needles: readonly string[]): Promise<boolean> {
  const search = new NeedleSearch(needles);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    if (search.push(chunk)) return true;
  }
  return false;
}

/**
 * Copies the output tree at `from` to `to` (modes and symlinks kept; file data cloned where the file
 * system can). Returns false, with `to` partly written, as soon as a file or link target contains one of
 * `forbidden`: the copy would point at a store path it must not.
 */
export async function copyOutputUnlessItSpells(from: string, to: string, forbidden: readonly string[]): Promise<boolean> {
  const visit = async (src: string, dst: string): Promise<boolean> => {
    const st = await lstat(src);
    if (st.isSymbolicLink()) {
      const target = await readlink(src);
      if (forbidden.some((f) => target.includes(f))) return false;
      await symlink(target, dst);
      return true;
    }
    if (st.isDirectory()) {
      await mkdir(dst);
      for (const name of (await readdir(src)).sort()) {
        if (!(await visit(join(src, name), join(dst, name)))) return false;
      }
      await chmod(dst, st.mode & 0o7777);
      return true;
    }
    if (!st.isFile() || (await fileContains(src, forbidden))) return false;
    await copyFile(src, dst, constants.COPYFILE_FICLONE);
    await chmod(dst, st.mode & 0o7777);
    return true;
  };
  return visit(from, to);
}

/** What a reuse copied: the source path's hash and the copy's digest (equal to the source's). */
export interface Reused {
  readonly fromHash: string;
  readonly fromPath: string;
  readonly digest: { readonly digest: string; readonly size: number; readonly spelled: ReadonlyMap<string, string> };
}

/**
 * Copies into `out` the output last built under `key`, if there is one that is valid, intact and spells
 * none of the store paths that differ (its own, and its dependencies' that are not among `depHashes`).
 * Undefined when there is nothing to reuse; the caller then builds, and removes `out`'s directory either way.
 */
export async function reuseOutput(store: Store, key: string, target: { hash: string; name: string; depHashes: readonly string[]; out: string }): Promise<Reused | undefined> {
  const fromHash = await readCutoff(store, key);
  if (fromHash === undefined || fromHash === target.hash) return undefined;
  const fromMeta = await store.validMeta(fromHash, target.name);
  if (fromMeta === undefined || fromMeta.name !== target.name) return undefined;
  const current = new Set(target.depHashes);
  const forbidden = [fromHash, ...fromMeta.deps.filter((h) => !current.has(h))];
  const fromPath = store.layout.storePath(fromHash, target.name);
  if (!(await copyOutputUnlessItSpells(fromPath, target.out, forbidden))) return undefined;
  // The copy must be the output that was recorded: one changed by hand since is not reused.
  const digest = await treeDigest(target.out, { normalise: true, spells: [store.locationNeedle] });
  if (digest.digest !== fromMeta.contentDigest) return undefined;
  await copyFile(store.layout.logPath(fromHash), store.layout.logPath(target.hash)).catch(() => undefined);
  return { fromHash, fromPath, digest };
}
