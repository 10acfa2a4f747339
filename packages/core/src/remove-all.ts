import { rm } from "node:fs/promises";
import { storeErrorFrom } from "./errors.js";

/**
 * Removes `paths` in order (metadata first: a path without it is a crashed build's leftover, never a valid one).
 * A store that is read-only or not the user's is their error to fix, in one line.
 */
export async function removeAll(paths: readonly string[], what: string): Promise<void> {
  try {
    for (const path of paths) await rm(path, { recursive: true, force: true });
  } catch (err) {
    throw storeErrorFrom(err, what);
  }
}
