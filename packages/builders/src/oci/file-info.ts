import type { Stats } from "node:fs";

export type FileKind = "directory" | "file" | "symlink" | "fifo" | "socket" | "character device" | "block device";

/**
 * What the layer writer needs of an lstat, and nothing more: the walk holds one per child of every directory on
 * the current path, so a slim record keeps the garbage a big tree produces small.
 */
export interface FileInfo {
  kind: FileKind;
  /** The 12 permission bits (07777). */
  mode: number;
  size: number;
  nlink: number;
  dev: number;
  ino: number;
}

export function fileInfo(s: Stats): FileInfo {
  const kind: FileKind = s.isDirectory() ? "directory" : s.isSymbolicLink() ? "symlink" : s.isFile() ? "file"
    : s.isFIFO() ? "fifo" : s.isSocket() ? "socket" : s.isCharacterDevice() ? "character device" : "block device";
  return { kind, mode: s.mode & 0o7777, size: s.size, nlink: s.nlink, dev: s.dev, ino: s.ino };
}
