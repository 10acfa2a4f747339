import { open, readFile, unlink } from "node:fs/promises";
import { hostname } from "node:os";

/** How often a process waiting for another's build looks again. */
const POLL_MS = 40;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
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
      const handle = await open(path, "wx");
      await handle.writeFile(me);
      await handle.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (await options.isDone()) return "done";
    const owner = await readFile(path, "utf8").catch(() => "");
    const [pidText, host] = owner.split(" ");
    const pid = Number(pidText);
    if (owner !== "" && host === hostname() && Number.isInteger(pid) && !alive(pid)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
