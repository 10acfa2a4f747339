import { open, readlink } from "node:fs/promises";
import { constants } from "node:fs";
import type { FileInfo } from "./file-info.js";

const CHUNK = 256 * 1024;

/**
 * Whether two paths would give the same tar entry: same type, same mode, and the same symlink target or the
 * same bytes (compared chunk by chunk, never a whole file in memory).
 */
export async function sameContent(aPath: string, a: FileInfo, bPath: string, b: FileInfo): Promise<boolean> {
  if (a.kind === "symlink" || b.kind === "symlink") {
    return a.kind === b.kind && (await readlink(aPath)) === (await readlink(bPath));
  }
  if (a.kind !== "file" || b.kind !== "file") return false;
  if (a.mode !== b.mode || a.size !== b.size) return false;
  if (a.dev === b.dev && a.ino === b.ino) return true;
  const fa = await open(aPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const fb = await open(bPath, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const ba = Buffer.allocUnsafe(CHUNK);
      const bb = Buffer.allocUnsafe(CHUNK);
      for (let pos = 0; pos < a.size; pos += CHUNK) {
        const [ra, rb] = await Promise.all([fa.read(ba, 0, CHUNK, pos), fb.read(bb, 0, CHUNK, pos)]);
        if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
        if (ra.bytesRead === 0) break;
      }
      return true;
    } finally {
      await fb.close();
    }
  } finally {
    await fa.close();
  }
}
