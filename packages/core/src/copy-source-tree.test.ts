import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copySourceTree, type SourceEntry } from "./copy-source-tree.js";
import { BuildError } from "./errors.js";
import { WHOLE_FILE_BYTES } from "./read-file-chunks.js";

const sha256 = (bytes: Buffer | string): string => createHash("sha256").update(bytes).digest("hex");

/** A project tree with a small file, an executable, a symlink and a file above the whole-read size, and its entries. */
async function tree(t: { after: (fn: () => Promise<void>) => void }): Promise<{ root: string; out: string; entries: SourceEntry[]; big: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), "makes-copy-tree-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, "src");
  await mkdir(join(root, "deep", "er"), { recursive: true });
  const big = randomBytes(WHOLE_FILE_BYTES + 12345);
  await writeFile(join(root, "a.txt"), "a\n");
  await writeFile(join(root, "deep", "er", "run.sh"), "echo hi\n", { mode: 0o700 });
  await writeFile(join(root, "deep", "big.bin"), big);
  await symlink("../a.txt", join(root, "deep", "link"));
  const out = join(dir, "out");
  await mkdir(out);
  const entries: SourceEntry[] = [
    { path: "a.txt", type: "file", mode: 0o644, value: sha256("a\n") },
    { path: "deep/big.bin", type: "file", mode: 0o644, value: sha256(big) },
    { path: "deep/er/run.sh", type: "file", mode: 0o755, value: sha256("echo hi\n") },
    { path: "deep/link", type: "symlink", mode: 0o777, value: "../a.txt" },
  ];
  return { root, out, entries, big };
}

const changedError = (path: string) => (err: unknown): boolean =>
  err instanceof BuildError && err.reason === "bad-output" && err.message === `projectPath("/src"): ${path} changed while it was being copied into the store; run again`;

test("a source tree is copied with its bytes, git-style modes and symlinks, small files and a streamed large one alike", async (t) => {
  const { root, out, entries, big } = await tree(t);
  await copySourceTree(root, out, entries, 'projectPath("/src")');
  assert.equal(await readFile(join(out, "a.txt"), "utf8"), "a\n");
  assert.ok((await readFile(join(out, "deep", "big.bin"))).equals(big));
  assert.equal((await lstat(join(out, "deep", "er", "run.sh"))).mode & 0o777, 0o755);
  assert.equal((await lstat(join(out, "a.txt"))).mode & 0o777, 0o644);
  assert.equal(await readlink(join(out, "deep", "link")), "../a.txt");
});

test("a file edited, deleted, turned into a symlink or a FIFO since it was hashed fails the copy with 'changed', small or large", async (t) => {
  const cases: Array<[string, string, (root: string) => Promise<void>]> = [
    ["edited", "a.txt", (root) => writeFile(join(root, "a.txt"), "b\n")],
    ["edited (streamed)", "deep/big.bin", (root) => writeFile(join(root, "deep", "big.bin"), randomBytes(WHOLE_FILE_BYTES + 12345))],
    ["deleted", "a.txt", (root) => rm(join(root, "a.txt"))],
    ["its directory replaced by a file", "deep/er/run.sh", async (root) => {
      await rm(join(root, "deep", "er"), { recursive: true });
      await writeFile(join(root, "deep", "er"), "");
    }],
    ["a symlink to the same bytes", "a.txt", async (root) => {
      await writeFile(join(root, "copy.txt"), "a\n");
      await rm(join(root, "a.txt"));
      await symlink("copy.txt", join(root, "a.txt"));
    }],
    ["a FIFO (must not wait for a writer)", "a.txt", async (root) => {
      await rm(join(root, "a.txt"));
      execFileSync("mkfifo", [join(root, "a.txt")]);
    }],
  ];
  for (const [what, path, change] of cases) {
    await t.test(what, { timeout: 10_000 }, async (t) => {
      const { root, out, entries } = await tree(t);
      await change(root);
      await assert.rejects(copySourceTree(root, out, entries, 'projectPath("/src")'), changedError(path));
    });
  }
});

test("nothing is written under a symlink of the tree, even if the listing named such a path", async (t) => {
  const { root, out } = await tree(t);
  const entries: SourceEntry[] = [
    { path: "deep/link", type: "symlink", mode: 0o777, value: "../a.txt" },
    { path: "deep/link/x", type: "file", mode: 0o644, value: sha256("a\n") },
  ];
  await mkdir(join(out, "deep"));
  await assert.rejects(copySourceTree(root, out, entries, 'projectPath("/src")'), /internal: .*deep\/link\/x is under the symlink deep\/link/);
  assert.equal(await readFile(join(root, "a.txt"), "utf8"), "a\n");
});

test("an aborted copy (Ctrl-C) stops between files instead of copying the rest of the tree", async (t) => {
  const { root, out, entries } = await tree(t);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(copySourceTree(root, out, entries, 'projectPath("/src")', controller.signal), { name: "AbortError" });
  assert.equal((await lstat(join(out, "deep", "er")).catch(() => undefined)) === undefined, true, "stopped after the first file");
});
