import { readFile, readdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { StoreError } from "./errors.js";
import { processAlive } from "./process-alive.js";
import type { Store } from "./store.js";

/**
 * A build in progress holds paths that no out-link reaches yet (its inputs, its fresh output): removing
 * store paths then (gc, verify --repair) could delete them under it. There are no temporary roots, so
 * those commands wait for a quiet store instead: any lock held by a live process on this host refuses.
 */
export async function refuseWhileBuilding(store: Store, command: string): Promise<void> {
  for (const name of await readdir(store.layout.locksDir).catch(() => [] as string[])) {
    if (!name.endsWith(".lock")) continue;
    const owner = await readFile(join(store.layout.locksDir, name), "utf8").catch(() => "");
    const [pidText, host] = owner.split(" ");
    const pid = Number(pidText);
    if (host === hostname() && Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new StoreError("busy", `${command}: a build is running on this store (process ${pid}); run it again when the build has finished`);
    }
  }
}
