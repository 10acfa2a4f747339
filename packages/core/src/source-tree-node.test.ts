import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import type { Stats } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "./errors.js";
import type { FingerprintContext } from "./fingerprint-context.js";
import { SourceListing } from "./source-listing.js";
import { SourceTreeNode } from "./source-tree-node.js";
import { sha256File } from "./stat-cache.js";

async function project(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "makes-source-test-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, "pkg", "sub"), { recursive: true });
  await writeFile(join(dir, "pkg", "a.txt"), "a\n");
  await writeFile(join(dir, "pkg", "sub", "run.sh"), "echo\n");
  await chmod(join(dir, "pkg", "sub", "run.sh"), 0o755);
  await symlink("a.txt", join(dir, "pkg", "link"));
  await writeFile(join(dir, "outside.txt"), "x\n");
  return dir;
}

function context(dir: string, digest: (abs: string, st: Stats) => Promise<string> = (abs) => sha256File(abs)): FingerprintContext {
  const listing = new SourceListing(dir);
  return {
    projectDir: dir,
    labelOf: (n) => n.name,
    hashOf: () => "",
    resolveForHash: (text) => text,
    fileDigest: digest,
    listSourceFiles: async (rel) => (await listing.tree(rel)).files.map((path) => ({ path })),
    listSourceFilesSync: () => undefined,
  } as FingerprintContext;
}

test("a source tree's fingerprint: relative paths, git-style modes, symlink targets, content digests", async (t) => {
  const dir = await project(t);
  const fp = await new SourceTreeNode("/pkg").fingerprint(context(dir));
  assert.deepEqual(Object.keys(fp.inputs).sort(), ["file:a.txt", "file:link", "file:sub/run.sh"]);
  assert.match(fp.inputs["file:a.txt"] ?? "", /^644 [0-9a-f]{64}$/);
  assert.match(fp.inputs["file:sub/run.sh"] ?? "", /^755 /);
  assert.equal(fp.inputs["file:link"], "symlink a.txt");
  assert.ok(!JSON.stringify(fp.key).includes(dir), "no absolute path in what is hashed");
});

test("a file deleted between the listing and its digest is left out, not an internal error", async (t) => {
  const dir = await project(t);
  const ctx = context(dir, async (abs) => {
    if (abs.endsWith("a.txt")) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${abs}'`), { code: "ENOENT" });
    return sha256File(abs);
  });
  const fp = await new SourceTreeNode("/pkg").fingerprint(ctx);
  assert.deepEqual(Object.keys(fp.inputs).sort(), ["file:link", "file:sub/run.sh"]);
  const failing = context(dir, async () => {
    throw Object.assign(new Error("EIO"), { code: "EIO" });
  });
  await assert.rejects(new SourceTreeNode("/pkg").fingerprint(failing), /EIO/, "other errors are not hidden");
});

test("projectPath: a path outside the project, or not a directory, is a ConfigError", async (t) => {
  const dir = await project(t);
  assert.throws(() => new SourceTreeNode("/../etc"), ConfigError);
  assert.throws(() => new SourceTreeNode("pkg"), ConfigError);
  await assert.rejects(new SourceTreeNode("/outside.txt").fingerprint(context(dir)), ConfigError);
  await assert.rejects(new SourceTreeNode("/missing").fingerprint(context(dir)), ConfigError);
});

test("projectPath of a symlink to a directory: says it is a symlink and names the real directory", async (t) => {
  const dir = await project(t);
  await mkdir(join(dir, "real", "src"), { recursive: true });
  await symlink("real/src", join(dir, "link"));
  await symlink("/etc", join(dir, "away"));
  await symlink("nowhere", join(dir, "dangling"));
  const message = async (path: string) => {
    const err = await new SourceTreeNode(path).fingerprint(context(dir)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(!err.message.includes("\n"));
    return err.message;
  };
  assert.equal(
    await message("/link"),
    `projectPath("/link"): ${join(dir, "link")} is a symlink (to "real/src"), not a directory; source trees are not followed through symlinks: name the real directory instead: projectPath("/real/src")`,
  );
  assert.match(await message("/away"), /is a symlink \(to "\/etc"\), not a directory; .*: name a real directory of the project instead$/);
  assert.match(await message("/dangling"), /is a symlink \(to "nowhere"\), not a directory; .*: name a real directory of the project instead$/);
  assert.match(await message("/missing"), /missing does not exist; a source tree is a directory of the project: create it or fix the path$/);
  assert.match(await message("/outside.txt"), /outside\.txt is not a directory; /);
  assert.match(await message("/outside.txt/x"), /is not a directory; /);
});
