import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmod, chown, link, lstat, readFile, symlink } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { BuildError } from "@makes/core";
import { writeLayer } from "./write-layer.js";
import { gnuTarExtract, gnuTarNames, gnuTarVerbose, makeTree, pkg, run, shape, snapshot, tempDir } from "./oci-test-helpers.js";

const sha = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

test("digests match the bytes written, the gzip header has no name or mtime (case 14)", async (t) => {
  const dir = await tempDir(t);
  const root = await makeTree(join(dir, "p"), [{ path: "etc/motd", file: "hello\n" }]);
  const out = join(dir, "layer.tgz");
  const blob = await writeLayer([pkg("p", root)], out);
  const bytes = await readFile(out);
  assert.equal(blob.size, bytes.length);
  assert.equal(blob.digest, sha(bytes));
  assert.equal(blob.diffId, sha(gunzipSync(bytes)));
  assert.match(blob.digest, /^sha256:[0-9a-f]{64}$/);
  assert.match(blob.diffId, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x1f, 0x8b, 0x08, 0x00], "no FNAME/FEXTRA/FCOMMENT flags");
  assert.deepEqual([...bytes.subarray(4, 8)], [0, 0, 0, 0], "mtime is zero");
  assert.equal(bytes[9], 3, "OS byte is Unix");
  const gzipOut = await run("gzip", ["-lv", out]);
  assert.match(gzipOut, /defla/);
});

test("long names, long symlink targets and hardlinks in a long directory extract exactly (case 2)", async (t) => {
  const dir = await tempDir(t);
  const longDir = "d".repeat(60);
  const longFile = "f".repeat(120);
  const linkDir = "h".repeat(110);
  const target = `/${"t".repeat(149)}`;
  const root = await makeTree(join(dir, "p"), [
    { path: `${longDir}/${longFile}`, file: "long\n" },
    { path: "sym", symlink: target },
    { path: `${linkDir}/first`, file: "shared\n" },
  ]);
  await link(join(root, linkDir, "first"), join(root, linkDir, "second"));
  assert.equal(Buffer.byteLength(`${longDir}/${longFile}`), 181);
  assert.equal(Buffer.byteLength(target), 150);
  const out = join(dir, "layer.tgz");
  await writeLayer([pkg("p", root)], out);
  const names = await gnuTarNames(out);
  assert.ok(names.includes(`${longDir}/${longFile}`));
  const verbose = await gnuTarVerbose(out);
  assert.ok(verbose.some((l) => l.startsWith("h") && l.endsWith(`${linkDir}/second link to ${linkDir}/first`)), verbose.join("\n"));
  const into = join(dir, "x");
  await gnuTarExtract(out, into);
  assert.deepEqual(shape(await snapshot(into)), shape(await snapshot(root)));
  const a = await lstat(join(into, linkDir, "first"));
  const b = await lstat(join(into, linkDir, "second"));
  assert.equal(a.ino, b.ino, "the hardlink pair is one inode after extraction");
});

test("UTF-8 names extract with exactly their bytes (case 3)", async (t) => {
  const dir = await tempDir(t);
  const names = ["AC_Raíz_Certicámara_S.A..pem", "naïve-файл-日本.txt"];
  const root = await makeTree(join(dir, "p"), [
    ...names.map((n) => ({ path: `etc/${n}`, file: n })),
    { path: "etc/link", symlink: names[1] as string },
  ]);
  const out = join(dir, "layer.tgz");
  await writeLayer([pkg("p", root)], out);
  const into = join(dir, "x");
  await gnuTarExtract(out, into);
  const after = await snapshot(into);
  for (const n of names) assert.ok(after.some((e) => e.path === `etc/${n}`), n);
  assert.equal(after.find((e) => e.path === "etc/link")?.target, names[1]);
  assert.deepEqual(shape(after), shape(await snapshot(root)));
});

test("setuid, setgid and sticky bits survive, owners are 0:0, symlinks are 0777 (cases 4, 5)", async (t) => {
  const dir = await tempDir(t);
  const root = await makeTree(join(dir, "p"), [
    { path: "bin/su", file: "su", mode: 0o4755 },
    { path: "bin/x", file: "x", mode: 0o2755 },
    { path: "tmp", dir: true, mode: 0o1777 },
    { path: "bin/sh", symlink: "x" },
  ]);
  await chown(join(root, "bin/su"), 1000, 1000);
  await chown(join(root, "tmp"), 1234, 1234);
  await chmod(join(root, "bin/su"), 0o4755); // chown clears setuid
  await chmod(join(root, "tmp"), 0o1777);
  const out = join(dir, "layer.tgz");
  await writeLayer([pkg("p", root)], out);
  const verbose = await gnuTarVerbose(out);
  for (const line of verbose) assert.match(line, /^\S+ 0\/0 /, line);
  assert.ok(verbose.some((l) => l.startsWith("-rwsr-xr-x") && l.endsWith(" bin/su")), verbose.join("\n"));
  assert.ok(verbose.some((l) => l.startsWith("-rwxr-sr-x") && l.endsWith(" bin/x")));
  assert.ok(verbose.some((l) => l.startsWith("drwxrwxrwt") && l.endsWith(" tmp/")));
  assert.ok(verbose.some((l) => l.startsWith("lrwxrwxrwx") && l.includes(" bin/sh -> x")));
  const into = join(dir, "x");
  await gnuTarExtract(out, into);
  const after = await snapshot(into);
  assert.equal(after.find((e) => e.path === "bin/su")?.mode, 0o4755);
  assert.equal(after.find((e) => e.path === "bin/x")?.mode, 0o2755);
  assert.equal(after.find((e) => e.path === "tmp")?.mode, 0o1777);
  for (const e of after) assert.deepEqual([e.uid, e.gid], [0, 0], e.path);
});

test("parents are explicit and before their children; order is a sorted depth-first walk (cases 6, 8)", async (t) => {
  const dir = await tempDir(t);
  const root = await makeTree(join(dir, "p"), [
    { path: "opt/app/bin/tool", file: "#!/bin/sh\necho ok\n", mode: 0o755 },
    { path: "a-b", file: "1" },
    { path: "a/b", file: "2" },
    { path: "a.c", file: "3" },
    { path: "B", file: "4" },
  ]);
  const out = join(dir, "layer.tgz");
  await writeLayer([pkg("p", root)], out);
  const names = await gnuTarNames(out);
  assert.deepEqual(names, ["B", "a/", "a/b", "a-b", "a.c", "opt/", "opt/app/", "opt/app/bin/", "opt/app/bin/tool"]);
  const verbose = await gnuTarVerbose(out);
  for (const d of ["opt/", "opt/app/", "opt/app/bin/"]) {
    assert.ok(verbose.some((l) => l.startsWith("drwxr-xr-x") && l.endsWith(` ${d}`)), d);
  }
});

test("an empty directory is kept (case 7)", async (t) => {
  const dir = await tempDir(t);
  const root = await makeTree(join(dir, "p"), [{ path: "var/empty", dir: true, mode: 0o700 }]);
  const out = join(dir, "layer.tgz");
  await writeLayer([pkg("p", root)], out);
  assert.deepEqual(await gnuTarNames(out), ["var/", "var/empty/"]);
  const into = join(dir, "x");
  await gnuTarExtract(out, into);
  assert.equal((await lstat(join(into, "var/empty"))).mode & 0o7777, 0o700);
});

test("a fifo or a socket is an error naming the path (case 9)", async (t) => {
  const dir = await tempDir(t);
  const root = await makeTree(join(dir, "p"), [{ path: "run/ok", file: "x" }]);
  await run("mkfifo", [join(root, "run/pipe")]);
  await assert.rejects(writeLayer([pkg("p", root, [], "fifo-pkg")], join(dir, "l1.tgz")), (err: unknown) => {
    assert.ok(err instanceof BuildError);
    assert.match(err.message, /fifo-pkg contains a fifo at \/run\/pipe/);
    return true;
  });
  const root2 = await makeTree(join(dir, "q"), [{ path: "run/ok", file: "x" }]);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(root2, "run/sock"), resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await assert.rejects(writeLayer([pkg("q", root2)], join(dir, "l2.tgz")), /contains a socket at \/run\/sock/);
});

test("merged packages: the one listed last wins a conflict (as from a layer above), with a warning naming both; identical paths are silent (case 10)", async (t) => {
  const dir = await tempDir(t);
  const a = await makeTree(join(dir, "a"), [
    { path: "etc/motd", file: "from a\n" },
    { path: "etc/same", file: "same\n" },
    { path: "usr/bin/a", file: "a" },
  ]);
  const b = await makeTree(join(dir, "b"), [
    { path: "etc/motd", file: "from b\n" },
    { path: "etc/same", file: "same\n" },
    { path: "usr/bin/b", file: "b" },
  ]);
  const warnings: string[] = [];
  const out = join(dir, "layer.tgz");
  const blob = await writeLayer([pkg("ida", a, [], "pkg-a"), pkg("idb", b, [], "pkg-b")], out, { onWarning: (w) => warnings.push(w) });
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0] as string, /etc\/motd/);
  assert.match(warnings[0] as string, /pkg-a/);
  assert.match(warnings[0] as string, /pkg-b/);
  assert.deepEqual(blob.warnings, warnings);
  const names = await gnuTarNames(out);
  assert.equal(names.filter((n) => n === "etc/motd").length, 1);
  assert.equal(names.filter((n) => n === "etc/same").length, 1);
  assert.equal(names.filter((n) => n === "usr/").length, 1, "directories merge");
  assert.ok(names.includes("usr/bin/a") && names.includes("usr/bin/b"));
  const into = join(dir, "x");
  await gnuTarExtract(out, into);
  assert.equal(await readFile(join(into, "etc/motd"), "utf8"), "from b\n");
  assert.match(warnings[0] as string, /keeps the one from pkg-b \(listed later/);
  // and the other order gives the other winner, deterministically
  const out2 = join(dir, "layer2.tgz");
  await writeLayer([pkg("idb", b, [], "pkg-b"), pkg("ida", a, [], "pkg-a")], out2, { onWarning: () => undefined });
  const into2 = join(dir, "y");
  await gnuTarExtract(out2, into2);
  assert.equal(await readFile(join(into2, "etc/motd"), "utf8"), "from a\n");
});

test("symlinks are never followed, even a symlinked directory pointing out of the package", async (t) => {
  const dir = await tempDir(t);
  const outside = await makeTree(join(dir, "outside"), [{ path: "secret", file: "secret" }]);
  const root = await makeTree(join(dir, "p"), [{ path: "etc/x", file: "x" }]);
  await symlink(outside, join(root, "escape"));
  const out = join(dir, "layer.tgz");
  await writeLayer([pkg("p", root)], out);
  const names = await gnuTarNames(out);
  assert.ok(names.includes("escape"));
  assert.ok(!names.some((n) => n.includes("secret")));
  for (const n of names) {
    assert.ok(!n.startsWith("/") && !n.split("/").includes(".."), n);
  }
});

test("a hardlink only points to an earlier entry of the same package in the layer", async (t) => {
  const dir = await tempDir(t);
  const root = await makeTree(join(dir, "p"), [{ path: "z/orig", file: "data" }]);
  await link(join(root, "z/orig"), join(root, "a-link"));
  const out = join(dir, "layer.tgz");
  await writeLayer([pkg("p", root)], out);
  const verbose = await gnuTarVerbose(out);
  const iFirst = verbose.findIndex((l) => l.endsWith(" a-link"));
  const iLink = verbose.findIndex((l) => l.endsWith(" z/orig link to a-link"));
  assert.ok(iFirst >= 0 && iLink > iFirst, verbose.join("\n"));
});

test("failures end the write instead of hanging or crashing: an existing output file, an aborted signal", async (t) => {
  const dir = await tempDir(t);
  // Small files (read ahead whole) and large ones (streamed through an entry sink), so both paths meet the failure.
  const files = Array.from({ length: 200 }, (_, i) => ({ path: `d/f${i}`, file: Buffer.alloc(5000, i) }));
  const large = Array.from({ length: 4 }, (_, i) => ({ path: `a/big${i}`, file: Buffer.alloc(3 * 1024 * 1024, i) }));
  const root = await makeTree(join(dir, "p"), [...large, ...files]);
  const out = join(dir, "exists.tgz");
  await writeLayer([pkg("p", root)], out);
  await assert.rejects(writeLayer([pkg("p", root)], out), /EEXIST/);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(writeLayer([pkg("p", root)], join(dir, "aborted.tgz"), { signal: controller.signal }), (e: unknown) => e instanceof BuildError && e.reason === "interrupted");
});
