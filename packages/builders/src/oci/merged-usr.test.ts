/**
 * Merged /usr in images: a Debian-style package tree has `bin -> usr/bin` (and lib, lib64, sbin …); another
 * package with a real `bin/` must not replace that link in the unpacked root (above it) nor be hidden by it
 * (below it). Checked by what umoci unpacks and by GNU tar's listing of the layers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import type { BaseLayer } from "./base-image.js";
import { baseMergedUsrLinks } from "./base-merged-usr.js";
import type { LayerPackage } from "./layer-package.js";
import { readBaseImage } from "./read-base-image.js";
import { validateImageOptions } from "./validate-image-options.js";
import { writeImage, type WrittenImage } from "./write-image.js";
import { gnuTarNames, makeTree, pkg, run, tempDir, type Spec } from "./oci-test-helpers.js";

const options = validateImageOptions({}, { name: "example/app", tag: "v1", jobLabel: "/test" }, {});
const readJson = async (path: string): Promise<any> => JSON.parse(await readFile(path, "utf8")); // eslint-disable-line @typescript-eslint/no-explicit-any -- test-side reading of known JSON

async function build(layers: LayerPackage[][], outDir: string, cacheDir: string, warnings: string[] = []): Promise<WrittenImage> {
  return writeImage({ layers, options, outDir, cacheDir, concurrency: 2, onWarning: (w) => warnings.push(w) });
}

/** The layer blobs of an image, bottom first. */
async function layerFiles(outDir: string, manifestDigest: string): Promise<string[]> {
  const manifest = await readJson(join(outDir, "blobs/sha256", manifestDigest.replace("sha256:", "")));
  return (manifest.layers as { digest: string }[]).map((l) => join(outDir, "blobs/sha256", l.digest.replace("sha256:", "")));
}

async function unpack(dir: string, outDir: string): Promise<string> {
  const bundle = join(dir, `bundle-${outDir.split("/").pop() ?? ""}`);
  await run("umoci", ["unpack", "--image", `${outDir}:v1`, bundle]);
  return join(bundle, "rootfs");
}

/** A Debian package tree as copyDebianPackage makes it on a merged-/usr host. */
const debianSpecs: Spec[] = [
  { path: "bin", symlink: "usr/bin" },
  { path: "lib64", symlink: "usr/lib64" },
  { path: "sbin", symlink: "usr/sbin" },
  { path: "usr/bin/sh", file: "#!debian sh\n", mode: 0o755 },
  { path: "usr/bin/ls", file: "debian ls\n", mode: 0o755 },
  { path: "usr/lib64/ld.so", file: "ld\n", mode: 0o755 },
  { path: "etc/motd", file: "debian motd\n" },
];
/** A Nix-style package: bin/ with a subdirectory, lib64/, and a file Debian also has. */
const mineSpecs: Spec[] = [
  { path: "bin/mytool", file: "#!/bin/sh\necho mine\n", mode: 0o755 },
  { path: "bin/sub/deep", file: "deep\n" },
  { path: "lib64/libmine.so", file: "lib\n" },
  { path: "etc/motd", file: "my motd\n" },
];

test("a package's bin/ is written under usr/bin/ when another layer has bin -> usr/bin, above or below it", async (t) => {
  const dir = await tempDir(t);
  const debian = await makeTree(join(dir, "s/debian"), debianSpecs);
  const mine = await makeTree(join(dir, "s/mine"), mineSpecs);
  const cache = join(dir, "cache");
  for (const [label, layers] of [
    ["mine on top", [[pkg("deb", debian, [], "coreutils")], [pkg("mine", mine, [], "mine")]]],
    ["mine below", [[pkg("mine", mine, [], "mine")], [pkg("deb", debian, [], "coreutils")]]],
  ] as const) {
    const out = join(dir, label.replace(/ /g, "-"));
    const warnings: string[] = [];
    const written = await build(layers.map((l) => [...l]), out, cache, warnings);
    await run("oci-image-tool", ["validate", "--type", "image", out]);
    const mineLayer = (await layerFiles(out, written.manifestDigest))[label === "mine on top" ? 1 : 0] as string;
    const names = await gnuTarNames(mineLayer);
    assert.deepEqual(names, ["etc/", "etc/motd", "usr/", "usr/bin/", "usr/bin/mytool", "usr/bin/sub/", "usr/bin/sub/deep", "usr/lib64/", "usr/lib64/libmine.so"], `${label}: no bin/ or lib64/ entry`);
    assert.deepEqual(warnings, [], label);

    const rootfs = await unpack(dir, out);
    assert.equal(await readlink(join(rootfs, "bin")), "usr/bin", `${label}: /bin is still the link`);
    assert.equal(await readlink(join(rootfs, "lib64")), "usr/lib64", label);
    assert.equal(await readFile(join(rootfs, "bin/sh"), "utf8"), "#!debian sh\n", `${label}: /bin/sh survives`);
    assert.equal(await readFile(join(rootfs, "bin/mytool"), "utf8"), "#!/bin/sh\necho mine\n", `${label}: /bin/mytool resolves`);
    assert.equal((await lstat(join(rootfs, "usr/bin/mytool"))).mode & 0o7777, 0o755, label);
    assert.equal(await readFile(join(rootfs, "bin/sub/deep"), "utf8"), "deep\n", label);
    assert.equal(await readFile(join(rootfs, "lib64/libmine.so"), "utf8"), "lib\n", label);
    // across layers the upper one wins, as for any file
    assert.equal(await readFile(join(rootfs, "etc/motd"), "utf8"), label === "mine on top" ? "my motd\n" : "debian motd\n", label);
  }
});

test("in one merged layer too; the package's own usr/bin/x wins over its bin/x, with a warning; a file at /sbin is left out", async (t) => {
  const dir = await tempDir(t);
  const debian = await makeTree(join(dir, "s/debian"), debianSpecs);
  const mine = await makeTree(join(dir, "s/mine"), [
    { path: "bin/tool", file: "from bin\n", mode: 0o755 },
    { path: "bin/same", file: "same\n", mode: 0o755 },
    { path: "usr/bin/tool", file: "from usr/bin\n", mode: 0o755 },
    { path: "usr/bin/same", file: "same\n", mode: 0o755 },
    { path: "sbin", file: "not a directory\n" },
  ]);
  const warnings: string[] = [];
  const out = join(dir, "out");
  const written = await build([[pkg("mine", mine, [], "mine"), pkg("deb", debian, [], "coreutils")]], out, join(dir, "cache"), warnings);
  const [layer] = await layerFiles(out, written.manifestDigest);
  const names = await gnuTarNames(layer as string);
  assert.equal(names.filter((n) => n === "usr/bin/tool").length, 1);
  assert.ok(names.includes("bin") && !names.includes("bin/") && !names.includes("sbin/"), names.join(" "));
  assert.equal(warnings.length, 2, warnings.join("\n"));
  assert.match(warnings.find((w) => w.startsWith("usr/bin/tool")) ?? "", /^usr\/bin\/tool is in mine twice with different contents, as \/usr\/bin\/tool and as \/bin\/tool .*; the layer keeps its \/usr\/bin\/tool$/);
  assert.match(warnings.find((w) => w.startsWith("mine has /sbin")) ?? "", /^mine has \/sbin as a file, while \/sbin is a symlink to usr\/sbin in this image .*put it under \/usr\/sbin/);
  const rootfs = await unpack(dir, out);
  assert.equal(await readlink(join(rootfs, "sbin")), "usr/sbin");
  assert.equal(await readFile(join(rootfs, "bin/tool"), "utf8"), "from usr/bin\n");
  assert.equal(await readFile(join(rootfs, "bin/sh"), "utf8"), "#!debian sh\n");
});

test("the layer cache keys what merged /usr changes: a layer of the same package tarred without the move is not reused", async (t) => {
  const dir = await tempDir(t);
  const debian = await makeTree(join(dir, "s/debian"), debianSpecs);
  const mine = await makeTree(join(dir, "s/mine"), mineSpecs);
  const plain = await makeTree(join(dir, "s/plain"), [{ path: "working-dir/my-file", file: "x\n" }]);
  const cache = join(dir, "cache");
  const alone = await build([[pkg("mine", mine)], [pkg("plain", plain)]], join(dir, "alone"), cache);
  assert.deepEqual(alone.layerCache, { hits: 0, misses: 2 });
  const [aloneMine] = await layerFiles(join(dir, "alone"), alone.manifestDigest);
  assert.ok((await gnuTarNames(aloneMine as string)).includes("bin/mytool"), "without a bin link, bin/ stays where it is");

  const withDebian = await build([[pkg("deb", debian)], [pkg("mine", mine)], [pkg("plain", plain)]], join(dir, "with"), cache);
  // mine is re-tarred (its tar changes); plain has nothing to move and keeps its cached layer
  assert.deepEqual(withDebian.layerCache, { hits: 1, misses: 2 });
  const rootfs = await unpack(dir, join(dir, "with"));
  assert.equal(await readFile(join(rootfs, "bin/mytool"), "utf8"), "#!/bin/sh\necho mine\n");
  assert.equal(await readlink(join(rootfs, "bin")), "usr/bin");
  const again = await build([[pkg("deb", debian)], [pkg("mine", mine)], [pkg("plain", plain)]], join(dir, "again"), cache);
  assert.deepEqual(again.layerCache, { hits: 3, misses: 0 });
  assert.equal(again.manifestDigest, withDebian.manifestDigest);
});

test("a package that has the same bin -> usr/bin link itself, or an absolute one, keeps it", async (t) => {
  const dir = await tempDir(t);
  const debian = await makeTree(join(dir, "s/debian"), debianSpecs);
  const own = await makeTree(join(dir, "s/own"), [{ path: "bin", symlink: "/usr/bin" }, { path: "usr/bin/x", file: "x\n" }]);
  const warnings: string[] = [];
  const out = join(dir, "out");
  const written = await build([[pkg("deb", debian)], [pkg("own", own)]], out, join(dir, "cache"), warnings);
  assert.deepEqual(warnings, []);
  const names = await gnuTarNames((await layerFiles(out, written.manifestDigest))[1] as string);
  assert.deepEqual(names, ["bin", "usr/", "usr/bin/", "usr/bin/x"]);
});

test("a fromImage whose root has bin -> usr/bin keeps it: the new layer's bin/ goes under usr/bin/", async (t) => {
  const dir = await tempDir(t);
  const debian = await makeTree(join(dir, "s/debian"), debianSpecs);
  const mine = await makeTree(join(dir, "s/mine"), mineSpecs);
  const cache = join(dir, "cache");
  const baseOut = join(dir, "base");
  await build([[pkg("deb", debian, [], "coreutils")]], baseOut, cache);
  const base = await readBaseImage(baseOut, join(dir, "work"), "v1");
  const out = join(dir, "derived");
  const written = await writeImage({ layers: [[pkg("mine", mine)]], options, outDir: out, cacheDir: cache, concurrency: 1, onWarning: () => undefined, base });
  const names = await gnuTarNames((await layerFiles(out, written.manifestDigest))[1] as string);
  assert.ok(names.includes("usr/bin/mytool") && !names.includes("bin/"), names.join(" "));
  const rootfs = await unpack(dir, out);
  assert.equal(await readlink(join(rootfs, "bin")), "usr/bin");
  assert.equal(await readFile(join(rootfs, "bin/mytool"), "utf8"), "#!/bin/sh\necho mine\n");
  assert.equal(await readFile(join(rootfs, "bin/sh"), "utf8"), "#!debian sh\n");
});

test("a base layer's whiteout or opaque root removes a lower layer's link; a directory replaces it", async (t) => {
  const dir = await tempDir(t);
  const layer = async (name: string, specs: Spec[]): Promise<BaseLayer> => {
    const root = await makeTree(join(dir, "trees", name), specs);
    const file = join(dir, `${name}.tar.gz`);
    await run("tar", ["-czf", file, "-C", root, "."]); // GNU tar writes ./-prefixed names
    return { descriptor: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${name.padEnd(64, "0")}`, size: 0 }, diffId: `sha256:${name.padStart(64, "0")}`, blobPath: file };
  };
  const links = await layer("a", [{ path: "bin", symlink: "usr/bin" }, { path: "lib", symlink: "/usr/lib" }, { path: "sbin", symlink: "usr/sbin" }, { path: "usr/bin/sh", file: "sh" }]);
  const whiteout = await layer("b", [{ path: ".wh.bin", file: "" }]);
  const opaque = await layer("c", [{ path: ".wh..wh..opq", file: "" }, { path: "sbin", symlink: "usr/sbin" }]);
  const dirs = await layer("d", [{ path: "lib/x", file: "x" }, { path: "lib", dir: true }]);
  const cache = join(dir, "cache");
  assert.deepEqual(await baseMergedUsrLinks([links], cache), ["bin", "lib", "sbin"]);
  assert.deepEqual(await baseMergedUsrLinks([links, whiteout], cache), ["lib", "sbin"]);
  assert.deepEqual(await baseMergedUsrLinks([links, opaque], cache), ["sbin"]);
  assert.deepEqual(await baseMergedUsrLinks([links, dirs], cache), ["bin", "sbin"]);
  // read once: a second image finds the records, even when the blob is gone
  await run("rm", [links.blobPath]);
  assert.deepEqual(await baseMergedUsrLinks([links], cache), ["bin", "lib", "sbin"]);
});
