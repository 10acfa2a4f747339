import { copyFile, link, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";

/**
 * Puts the content of `from` at `to`: a hardlink when both are on one filesystem (blobs are immutable, so
 * sharing the inode is safe), a copy otherwise. An existing `to` is kept: blobs are named by their digest.
 */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP") throw err;
  }
  const tmp = `${to}.tmp-${randomBytes(6).toString("hex")}`;
  try {
    await copyFile(from, tmp);
    await rename(tmp, to);
  } finally {
    await rm(tmp, { force: true });
  }
}
