import { realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * `path` with every symlink in it resolved, also when it does not exist yet (a store to be created): the
 * nearest existing ancestor by its real path, then the rest as written. Store paths are spelled into outputs,
 * so one store must have one spelling however it was reached (`--store link`, `MAKES_STORE=real`).
 */
export function canonicalPath(path: string): string {
  const abs = resolve(path);
  const missing: string[] = [];
  let dir = abs;
  for (;;) {
    try {
      return join(realpathSync(dir), ...missing.reverse());
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return abs;
      missing.push(basename(dir));
      dir = parent;
    }
  }
}
