import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError } from "@makes/core";
import { loadDpkgDatabase } from "./dpkg-database.js";
import { copyDebianPackage, listPackageFiles } from "./package-files.js";
import { resolveDebianClosure } from "./resolve-debian-closure.js";

const scratch = mkdtempSync(join(tmpdir(), "makes-debian-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const freshDir = (): string => join(scratch, `t${counter++}`);

function write(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

/** A small merged-/usr root with one package "foo" whose .list exercises every rule of copyDebianPackage. */
function fakeRoot(): string {
  const root = freshDir();
  for (const d of ["usr/bin", "usr/lib", "usr/lib64", "usr/sbin"]) mkdirSync(join(root, d), { recursive: true });
  for (const d of ["bin", "lib", "lib64", "sbin"]) symlinkSync(`usr/${d}`, join(root, d));
  write(join(root, "usr/bin/foo"), "#!/bin/sh\necho foo\n", 0o755);
  write(join(root, "usr/bin/foo-suid"), "suid\n", 0o4755);
  symlinkSync("foo", join(root, "usr/bin/foo-link"));
  write(join(root, "usr/lib64/ld-fake.so"), "ld\n", 0o755);
  write(join(root, "usr/share/doc/foo/copyright"), "c\n");
  write(join(root, "usr/share/man/man1/foo.1.gz"), "m\n");
  mkdirSync(join(root, "var/lib/foo"), { recursive: true });
  chmodSync(join(root, "var/lib/foo"), 0o700);
  mkdirSync(join(root, "etc/foo.d"), { recursive: true });
  chmodSync(join(root, "etc/foo.d"), 0o750);
  write(join(root, "etc/foo.d/README"), "r\n");
  write(join(root, "usr/bin/tool.distrib"), "foo's tool\n", 0o755);
  write(join(root, "usr/bin/tool"), "bar's tool\n", 0o755);
  write(join(root, "usr/share/unlisted-sibling"), "not foo's\n");
  write(join(root, "var/lib/dpkg/diversions"), "/bin/tool\n/bin/tool.distrib\nbar\n");
  write(
    join(root, "var/lib/dpkg/info/foo.list"),
    [
      "/.",
      "/bin",
      "/bin/foo",
      "/usr",
      "/usr/bin",
      "/usr/bin/foo", // listed twice through merged /usr: one file
      "/bin/foo-suid",
      "/bin/foo-link",
      "/bin/tool", // diverted by bar: foo's copy is at /bin/tool.distrib
      "/bin/gone", // a removed conffile: absent on disk
      "/lib64",
      "/lib64/ld-fake.so",
      "/usr/share",
      "/usr/share/doc",
      "/usr/share/doc/foo",
      "/usr/share/doc/foo/copyright",
      "/usr/share/man",
      "/usr/share/man/man1",
      "/usr/share/man/man1/foo.1.gz",
      "/var",
      "/var/lib",
      "/var/lib/foo",
      "/etc",
      "/etc/foo.d",
      "/etc/foo.d/README",
      "",
    ].join("\n"),
  );
  return root;
}

const foo = { name: "foo", version: "1.0-1", architecture: "amd64" };

describe("copyDebianPackage on a made-up root", () => {
  test("canonical merged-/usr paths, modes, symlinks, empty listed dirs, no docs, no missing files", async () => {
    const root = fakeRoot();
    const out = freshDir();
    const result = await copyDebianPackage(foo, out, { root });
    assert.deepEqual({ name: result.name, version: result.version, architecture: result.architecture }, foo);
    assert.deepEqual(result.missing, ["/usr/bin/gone"]);

    assert.equal(readFileSync(join(out, "usr/bin/foo"), "utf8"), "#!/bin/sh\necho foo\n");
    assert.equal(lstatSync(join(out, "usr/bin/foo")).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(out, "usr/bin/foo-suid")).mode & 0o7777, 0o4755);
    assert.equal(readlinkSync(join(out, "usr/bin/foo-link")), "foo");
    assert.equal(readFileSync(join(out, "usr/bin/tool.distrib"), "utf8"), "foo's tool\n");
    assert.ok(!existsSync(join(out, "usr/bin/tool")), "the diverting package's file is not foo's");
    assert.ok(existsSync(join(out, "usr/lib64/ld-fake.so")));
    for (const link of ["bin", "lib", "lib64", "sbin"]) assert.equal(readlinkSync(join(out, link)), `usr/${link}`);

    assert.ok(lstatSync(join(out, "var/lib/foo")).isDirectory(), "an empty directory of the package is kept");
    assert.equal(lstatSync(join(out, "var/lib/foo")).mode & 0o7777, 0o700);
    assert.equal(lstatSync(join(out, "etc/foo.d")).mode & 0o7777, 0o750, "a listed parent keeps its host mode");
    assert.ok(!existsSync(join(out, "usr/share")), "a directory whose contents were all docs is left out");
    assert.ok(!existsSync(join(out, "usr/share/unlisted-sibling")));
    assert.equal(result.files, 5);
    assert.equal(result.symlinks, 1);
  });

  test("keepDocs keeps documentation", async () => {
    const out = freshDir();
    await copyDebianPackage(foo, out, { root: fakeRoot(), keepDocs: true });
    assert.ok(existsSync(join(out, "usr/share/doc/foo/copyright")));
    assert.ok(existsSync(join(out, "usr/share/man/man1/foo.1.gz")));
  });

  test("a package without a file list is a clear error", async () => {
    await assert.rejects(
      listPackageFiles({ name: "nope", architecture: "amd64" }, fakeRoot()),
      (err: unknown) => err instanceof ConfigError && /dpkg has no file list for "nope:amd64"/.test(err.message),
    );
  });
});

const host = await loadDpkgDatabase();
const coreutils = host.get("coreutils");

describe("copyDebianPackage on the host", { skip: coreutils === undefined && "coreutils is not installed (no dpkg database?)" }, () => {
  test("coreutils: usr/bin/ls, bin -> usr/bin, no docs", async () => {
    assert.ok(coreutils !== undefined);
    const out = freshDir();
    const result = await copyDebianPackage(coreutils, out);
    assert.equal(result.version, coreutils.version);
    assert.ok(lstatSync(join(out, "usr/bin/ls")).isFile());
    assert.ok(lstatSync(join(out, "bin")).isSymbolicLink());
    assert.equal(readlinkSync(join(out, "bin")), "usr/bin");
    assert.ok(!existsSync(join(out, "usr/share/doc")));
    assert.ok(!existsSync(join(out, "usr/share/man")));
  });

  test(
    "coreutils with its closure layered into one root runs in a chroot",
    { skip: (process.getuid?.() !== 0 || !existsSync("/usr/sbin/chroot")) && "needs root and chroot" },
    async () => {
      assert.ok(coreutils !== undefined);
      const rootfs = freshDir();
      const closure = resolveDebianClosure(host, "coreutils");
      for (const ref of closure.order) {
        const pkg = closure.packages.get(ref);
        assert.ok(pkg !== undefined);
        // Each package into its own tree, then layered, the way image layers are: proves the trees agree.
        const tree = freshDir();
        await copyDebianPackage(pkg, tree);
        execFileSync("cp", ["-a", `${tree}/.`, rootfs]);
      }
      mkdirSync(join(rootfs, "working-dir"));
      writeFileSync(join(rootfs, "working-dir/my-file"), "");
      const listing = execFileSync("chroot", [rootfs, "/bin/ls", "/working-dir"], { encoding: "utf8" });
      assert.equal(listing, "my-file\n");
      assert.match(execFileSync("chroot", [rootfs, "/bin/ls", "/"], { encoding: "utf8" }), /\bbin\b/);
    },
  );
});
