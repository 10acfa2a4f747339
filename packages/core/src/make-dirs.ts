import { lstat, mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/**
 * `mkdir -p` that fails with the real reason. Node 20's promise-based recursive mkdir reports a parent it
 * could not create as ENOENT whatever the cause — no inodes left (ENOSPC), a read-only file system, no
 * permission — which would reach the user as an internal error instead of "no space left". On ENOENT the
 * missing directories are made one at a time, so the failing one throws its own error.
 */
export async function makeDirs(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    await makeOneByOne(resolve(path));
  }
}

async function makeOneByOne(path: string): Promise<void> {
  const missing: string[] = [];
  for (let dir = path; !(await exists(dir)); dir = dirname(dir)) {
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
      // Another process (a parallel build) may make the same directory between the check and here.
      if (err.code !== "EEXIST") throw err;
    });
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
