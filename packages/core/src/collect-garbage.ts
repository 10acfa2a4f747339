import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { refuseWhileBuilding } from "./refuse-while-building.js";
import { removeAll } from "./remove-all.js";
import type { Store } from "./store.js";

export interface GcResult {
  /** Out-links (job names) removed because the project no longer has those jobs. */
  readonly staleJobs: readonly string[];
  readonly removed: readonly string[];
  readonly freedBytes: number;
  readonly kept: number;
}

async function sizeOf(path: string): Promise<number> {
  const st = await stat(path).catch(() => undefined);
  if (st === undefined) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) total += await sizeOf(join(path, name));
  return total;
}

/**
 * Removes store paths that no out-link reaches (through the deps and runtime deps recorded in their
 * metadata). With `keepSinceMs`, paths built more recently than that are kept too. With `jobs` (the jobs
 * makes.ts has now), this project's out-links of jobs it no longer has go first, with their records: a job
 * deleted from makes.ts does not keep its outputs forever.
 * The metadata goes first, so an interrupted gc leaves paths that are merely invalid, never valid and partial.
 */
export async function collectGarbage(
  store: Store,
  options: { keepSinceMs?: number | undefined; dryRun?: boolean; jobs?: ReadonlySet<string> },
): Promise<GcResult> {
  await refuseWhileBuilding(store, "makes gc");
  const staleJobs: string[] = [];
  if (options.jobs !== undefined) {
    for (const job of await store.ownOutLinks()) {
      if (options.jobs.has(job)) continue;
      staleJobs.push(job);
      if (options.dryRun !== true) await store.removeOutLink(job);
    }
  }
  const live = new Set<string>();
  const visit = async (hash: string): Promise<void> => {
    if (live.has(hash)) return;
    live.add(hash);
    const meta = await store.readMeta(hash);
    for (const dep of [...(meta?.deps ?? []), ...(meta?.runtimeDeps ?? [])]) await visit(dep);
  };
  // In a dry run the stale out-links are still there, and count as gone.
  const stale = new Set(staleJobs);
  for (const link of await store.outLinks({ prune: options.dryRun !== true })) {
    if (link.namespace === store.layout.namespace && stale.has(link.job)) continue;
    await visit(link.target.slice(0, 32));
  }
  const now = Date.now();
  const removed: string[] = [];
  let freedBytes = 0;
  let kept = 0;
  const entries = await readdir(store.layout.storeDir).catch(() => [] as string[]);
  for (const entry of entries.sort()) {
    const hash = entry.slice(0, 32);
    if (live.has(hash)) {
      kept++;
      continue;
    }
    const meta = await store.readMeta(hash);
    if (meta !== undefined && options.keepSinceMs !== undefined && now - Date.parse(meta.builtAt) < options.keepSinceMs) {
      kept++;
      continue;
    }
    const path = join(store.layout.storeDir, entry);
    freedBytes += await sizeOf(path);
    removed.push(entry);
    if (options.dryRun) continue;
    await removeAll([store.layout.metaPath(hash), path, store.layout.logPath(hash)], `removing ${entry} (makes gc)`);
  }
  // Metadata whose output was deleted by hand and that nothing reaches: without this, `makes verify`
  // would report the path as missing after every gc, although it tells the user to run gc.
  const inStore = new Set(entries.map((e) => e.slice(0, 32)));
  const metas = await readdir(store.layout.metaDir).catch(() => [] as string[]);
  for (const file of metas.sort()) {
    if (!file.endsWith(".json")) continue;
    const hash = file.slice(0, -5);
    if (live.has(hash) || inStore.has(hash)) continue;
    const meta = await store.readMeta(hash);
    // Installed since the listing above (another makes process): not ours to judge.
    if (meta !== undefined && (await store.exists(store.layout.storePath(hash, meta.name)))) continue;
    removed.push(meta === undefined ? hash : `${hash}-${meta.name}`);
    if (options.dryRun) continue;
    await removeAll([store.layout.metaPath(hash), store.layout.logPath(hash)], `removing the metadata of ${hash} (makes gc)`);
  }
  return { staleJobs, removed, freedBytes, kept };
}

