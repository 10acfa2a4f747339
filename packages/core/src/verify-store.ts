import { readdir } from "node:fs/promises";
import type { Store } from "./store.js";
import { treeDigest } from "./tree-digest.js";

export interface VerifyProblem {
  readonly path: string;
  readonly problem: "modified" | "missing";
}

/** Re-digests every valid store path and names those that changed behind makes's back. */
export async function verifyStore(store: Store): Promise<{ checked: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  let checked = 0;
  const metas = await readdir(store.layout.metaDir).catch(() => [] as string[]);
  for (const file of metas.sort()) {
    if (!file.endsWith(".json")) continue;
    const meta = await store.readMeta(file.slice(0, -5));
    if (meta === undefined) continue;
    checked++;
    const path = store.layout.storePath(meta.hash, meta.name);
    try {
      const digest = await treeDigest(path, { normalise: false });
      if (digest.digest !== meta.contentDigest) problems.push({ path, problem: "modified" });
    } catch {
      problems.push({ path, problem: "missing" });
    }
  }
  return { checked, problems };
}
