import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { storeErrorFrom } from "./errors.js";
import { makeDirs } from "./make-dirs.js";

/** Writes a file atomically: a reader sees the old content or the new, never a part. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await makeDirs(dirname(path));
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw storeErrorFrom(err, `writing ${path}`);
  }
}
