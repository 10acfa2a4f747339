import { readdir } from "node:fs/promises";
import { refuseWhileBuilding } from "./refuse-while-building.js";
import { removeAll } from "./remove-all.js";
import type { Store } from "./store.js";
import { treeDigest } from "./tree-digest.js";

export interface VerifyProblem {
  readonly hash: string;
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
      if (digest.digest !== meta.contentDigest) problems.push({ hash: meta.hash, path, problem: "modified" });
    } catch {
      problems.push({ hash: meta.hash, path, problem: "missing" });
    }
  }
  return { checked, problems };
}

/**
 * `makes verify --repair`: each path of `problems` is made invalid (its metadata goes first, as in gc, so an
 * interruption leaves it merely invalid) and removed; the next run rebuilds whatever needs it.
 */
export async function repairStore(store: Store, problems: readonly VerifyProblem[]): Promise<void> {
  await refuseWhileBuilding(store, "makes verify --repair");
  for (const p of problems) await removeAll([store.layout.metaPath(p.hash), p.path], `removing ${p.path} (makes verify --repair)`);
}
