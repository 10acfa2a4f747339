import { randomBytes } from "node:crypto";
import { link, open, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { processAlive } from "./process-alive.js";

/** How often a process waiting for another's build looks again. */
const POLL_MS = 40;
/** A lock file without an owner in it (only the fallback below can leave one) is stale after this long. */
const EMPTY_LOCK_STALE_MS = 10_000;

/**
 * Creates the lock with its owner already in it: written to a temporary file, then hard-linked into
 * place (link fails with EEXIST when the lock exists). A process killed at any moment leaves no lock
 * or a lock naming its owner, never an empty one that no waiter could judge stale. Where the file
 * system has no hardlinks, O_EXCL creation then a write (an empty lock is then judged by its age).
 */
async function createLock(path: string, owner: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, owner);
  try {
    await link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
    const handle = await open(path, "wx");
    await handle.writeFile(owner);
    await handle.close();
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}


/**
 * A lock file per hash, shared by every makes process on the store: created with O_EXCL, holding the
 * owner's pid and host. A lock whose owner is dead (on this host) is stale and taken over. Correctness
 * does not rest on the lock alone: installing an output is a rename and validity is the metadata file,
 * so a rare double build wastes time but never corrupts the store.
 */
export async function acquireLock(
  path: string,
  options: { signal?: AbortSignal | undefined; isDone: () => Promise<boolean> },
): Promise<(() => Promise<void>) | "done"> {
  const me = `${process.pid} ${hostname()}`;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      await createLock(path, me);
      const release = async (): Promise<void> => {
        await unlink(path).catch(() => undefined);
      };
      // The previous holder may have finished the build between our last look and now: a waiter
      // that gets the lock after a successful build must hear "done", not build it again.
      if (await options.isDone()) {
        await release();
        return "done";
      }
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (await options.isDone()) return "done";
    const owner = await readFile(path, "utf8").catch(() => "");
    const [pidText, host] = owner.split(" ");
    const pid = Number(pidText);
    if (owner !== "" && host === hostname() && Number.isInteger(pid) && !processAlive(pid)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (owner === "") {
      const age = await stat(path).then((st) => Date.now() - st.mtimeMs, () => 0);
      if (age > EMPTY_LOCK_STALE_MS) {
        await unlink(path).catch(() => undefined);
        continue;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
