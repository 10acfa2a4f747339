import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeDirs } from "./make-dirs.js";

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "makes-make-dirs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("makeDirs makes every missing directory and accepts one that exists", async (t) => {
  const dir = await scratch(t);
  await makeDirs(join(dir, "a/b/c"));
  await makeDirs(join(dir, "a/b/c"));
  assert.ok((await stat(join(dir, "a/b/c"))).isDirectory());
});

test("makeDirs says ENOTDIR for a file in the way and EACCES for a parent it may not write", async (t) => {
  const dir = await scratch(t);
  await writeFile(join(dir, "file"), "");
  await assert.rejects(makeDirs(join(dir, "file/x/y")), { code: "ENOTDIR" });
  if (process.getuid?.() === 0) return t.diagnostic("root writes anywhere: the EACCES half needs another user");
  await mkdir(join(dir, "locked"));
  await chmod(join(dir, "locked"), 0o555);
  await assert.rejects(makeDirs(join(dir, "locked/x/y")), { code: "EACCES" });
});

// Node 20's promise-based recursive mkdir says ENOENT here, which reached users as an internal error.
test("makeDirs says ENOSPC, not ENOENT, when the file system has no inodes left", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "makes-make-dirs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m,nr_inodes=3", "tmpfs", dir], { stdio: "pipe" });
  } catch {
    await rm(dir, { recursive: true });
    return t.skip("cannot mount a tmpfs here: needs root or CAP_SYS_ADMIN");
  }
  t.after(async () => {
    execFileSync("umount", [dir]);
    await rm(dir, { recursive: true });
  });
  await assert.rejects(makeDirs(join(dir, "a/b/c/d")), { code: "ENOSPC" });
});
