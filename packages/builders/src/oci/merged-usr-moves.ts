import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";
import { isMergedUsrLink, mergedUsrLinks } from "../debian/merged-usr-links.js";
import { fileInfo, type FileKind } from "./file-info.js";
import type { LayerPackage } from "./layer-package.js";

/**
 * What the layer writer does with one top-level entry of a package because the image is merged-/usr:
 * - "move": the package has a real directory `bin/`; its contents are written under `usr/bin/` and `bin/`
 *   itself is not written, so the image's `/bin -> usr/bin` link survives and `/bin/tool` still resolves;
 * - "drop": the package has a file or another symlink there (or a `/usr` that is not a directory to move into);
 *   it would replace the image's link, so it is left out, with a warning.
 */
export interface UsrMergeAction {
  readonly name: string;
  readonly action: "move" | "drop";
  /** What the package has at `/<name>`. */
  readonly kind: FileKind;
  /** For a drop because of `/usr`: what the package has there instead of a directory. */
  readonly usrKind?: FileKind;
}

/**
 * The merged-/usr names of an image: those (bin, sbin, lib, lib64, …) that any of its packages has as a top-level
 * symlink to `usr/<name>` — every Debian package tree of a merged-/usr host does, and so does a base image's root.
 * Sorted, each once.
 */
export async function imageMergedUsrLinks(packages: readonly LayerPackage[], extra: readonly string[] = []): Promise<string[]> {
  const names = new Set<string>(extra);
  for (const links of await Promise.all(packages.map((p) => mergedUsrLinks(p.dir)))) for (const n of links) names.add(n);
  return [...names].sort();
}

/**
 * The entries of the package at `dir` that the merged-/usr names `links` change, by name. A top-level
 * `<name> -> usr/<name>` link of the package itself is kept as it is (it is the image's own link).
 * Only the top level is looked at (a few lstat calls): the layer cache calls this to key a layer.
 */
export async function usrMergeActions(dir: string, links: readonly string[]): Promise<UsrMergeAction[]> {
  if (links.length === 0) return [];
  const kindAt = async (name: string): Promise<FileKind | undefined> => {
    try {
      return fileInfo(await lstat(join(dir, name))).kind;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw err;
    }
  };
  const usrKind = await kindAt("usr");
  const actions: UsrMergeAction[] = [];
  for (const name of links) {
    const kind = await kindAt(name);
    if (kind === undefined) continue;
    if (kind === "symlink" && isMergedUsrLink(name, await readlink(join(dir, name)))) continue;
    if (kind !== "directory") actions.push({ name, action: "drop", kind });
    else if (usrKind !== undefined && usrKind !== "directory") actions.push({ name, action: "drop", kind, usrKind });
    else actions.push({ name, action: "move", kind });
  }
  return actions;
}
