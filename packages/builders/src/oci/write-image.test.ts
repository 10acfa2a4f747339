import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { gunzipSync } from "node:zlib";
import { canonicalJson } from "./canonical-json.js";
import { exportImage } from "./export-image.js";
import type { LayerPackage } from "./layer-package.js";
import { dependencyOrder, planLayers } from "./plan-layers.js";
import { validateImageOptions } from "./validate-image-options.js";
import { writeImage, type WrittenImage } from "./write-image.js";
import { makeTree, pkg, run, shape, snapshot, tempDir, type Spec } from "./oci-test-helpers.js";

const defaults = { name: "example/app", tag: "v1", jobLabel: "/test" };
const options = (raw: Record<string, unknown> = {}) => validateImageOptions(raw, defaults, {});

async function build(layers: LayerPackage[][], outDir: string, cacheDir: string, raw: Record<string, unknown> = {}, warnings: string[] = []): Promise<WrittenImage> {
  return writeImage({ layers, options: options(raw), outDir, cacheDir, concurrency: 2, onWarning: (w) => warnings.push(w) });
}

const readJson = async (path: string): Promise<any> => JSON.parse(await readFile(path, "utf8")); // eslint-disable-line @typescript-eslint/no-explicit-any -- test-side reading of known JSON
const blob = (dir: string, digest: string): string => join(dir, "blobs", "sha256", digest.replace("sha256:", ""));

const appSpecs: Spec[] = [
  { path: "opt/app/bin/tool", file: "#!/bin/sh\necho tool-ran\n", mode: 0o755 },
  { path: "opt/app/share/readme", file: "readme\n" },
  { path: "bin/su", file: "su", mode: 0o4755 },
  { path: "tmp", dir: true, mode: 0o1777 },
  { path: "etc/naïve-файл-日本.txt", file: "utf8\n" },
  { path: "etc/alt", symlink: "naïve-файл-日本.txt" },
  { path: "var/empty", dir: true },
];
const libSpecs: Spec[] = [
  { path: "lib/libc.so", file: Buffer.alloc(300_000, 7), mode: 0o755 },
  { path: "lib/libc.so.6", symlink: "libc.so" },
];

test("an image that oci-image-tool, umoci and skopeo accept, whose unpacked root is the packages (cases 4, 6, 13, 14)", async (t) => {
  const dir = await tempDir(t);
  const app = await makeTree(join(dir, "store/app"), appSpecs);
  const lib = await makeTree(join(dir, "store/lib"), libSpecs);
  const closure = [pkg("h-app", app, ["h-lib"], "app"), pkg("h-lib", lib, [], "lib")];
  const out = join(dir, "image");
  const raw = { config: { Env: ["PATH=/opt/app/bin", "A=1"], Entrypoint: ["/opt/app/bin/tool"], WorkingDir: "/opt/app", ExposedPorts: { "8080/tcp": {} } } };
  const result = await build(planLayers(closure, 65), out, join(dir, "cache"), raw);

  // layout and blobs, by the validator
  await run("oci-image-tool", ["validate", "--type", "image", out]);
  await run("oci-image-tool", ["validate", "--type", "manifest", blob(out, result.manifestDigest)]);
  await run("oci-image-tool", ["validate", "--type", "config", blob(out, result.configDigest)]);
  await run("oci-image-tool", ["validate", "--type", "imageIndex", join(out, "index.json")]);

  // our own checks of what the tools miss (case 13, 14)
  const index = await readJson(join(out, "index.json"));
  const desc = index.manifests[0];
  assert.equal(desc.digest, result.manifestDigest);
  assert.equal(desc.annotations["org.opencontainers.image.ref.name"], "v1");
  assert.equal(desc.annotations["io.containerd.image.name"], "example/app:v1");
  assert.deepEqual(desc.platform, { architecture: options().architecture, os: options().os });
  const manifestBytes = await readFile(blob(out, result.manifestDigest));
  assert.equal(desc.size, manifestBytes.length);
  const manifest = JSON.parse(manifestBytes.toString("utf8"));
  assert.equal(manifestBytes.toString("utf8"), JSON.stringify(manifest), "compact");
  for (const file of [blob(out, result.manifestDigest), blob(out, result.configDigest), join(out, "index.json"), join(out, "manifest.json")]) {
    const text = await readFile(file, "utf8");
    assert.equal(text, canonicalJson(JSON.parse(text)), `${file} is canonical (sorted keys, compact)`);
  }
  assert.deepEqual(Object.keys(manifest), ["config", "layers", "mediaType", "schemaVersion"]);
  assert.equal(manifest.schemaVersion, 2);
  const config = await readJson(blob(out, result.configDigest));
  assert.equal(manifest.config.size, (await stat(blob(out, result.configDigest))).size);
  assert.equal(config.created, "1970-01-01T00:00:01Z");
  assert.equal(config.architecture, options().architecture);
  assert.equal(config.os, "linux");
  assert.equal(config.rootfs.type, "layers");
  assert.equal(config.rootfs.diff_ids.length, 2);
  assert.equal(config.history.length, 2);
  assert.match(config.history[0].comment, /lib/);
  assert.deepEqual(config.config.Env, ["PATH=/opt/app/bin", "A=1"]);
  for (const [i, layer] of manifest.layers.entries()) {
    const bytes = await readFile(blob(out, layer.digest));
    assert.match(layer.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(layer.size, bytes.length);
    assert.equal(layer.digest, `sha256:${createHash("sha256").update(bytes).digest("hex")}`);
    assert.equal(config.rootfs.diff_ids[i], `sha256:${createHash("sha256").update(gunzipSync(bytes)).digest("hex")}`);
    assert.equal(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert.deepEqual([...bytes.subarray(3, 8)], [0, 0, 0, 0, 0], "gzip: no name flag, zero mtime");
    await run("tar", ["-tzf", blob(out, layer.digest)]);
  }
  const dockerManifest = await readJson(join(out, "manifest.json"));
  assert.deepEqual(dockerManifest, [{
    Config: `blobs/sha256/${result.configDigest.slice(7)}`,
    RepoTags: ["example/app:v1"],
    Layers: manifest.layers.map((l: { digest: string }) => `blobs/sha256/${l.digest.slice(7)}`),
  }]);

  // umoci: verifies the diff_ids, extracts
  const bundle = join(dir, "bundle");
  await run("umoci", ["unpack", "--image", `${out}:v1`, bundle]);
  await run("umoci", ["stat", "--image", `${out}:v1`]);
  const rootfs = join(bundle, "rootfs");
  const unpacked = await snapshot(rootfs);
  const expected = [...(await snapshot(app)), ...(await snapshot(lib))];
  const merged = new Map<string, unknown>();
  for (const e of shape(expected) as { path: string }[]) merged.set(e.path, e);
  assert.deepEqual(shape(unpacked), [...merged.values()].sort((a, b) => Buffer.compare(Buffer.from((a as { path: string }).path), Buffer.from((b as { path: string }).path))));
  for (const e of unpacked) assert.deepEqual([e.uid, e.gid], [0, 0], e.path);
  // case 6: a container running as uid 65534 can execute the tool under the explicit 0755 parents
  await chmod(dir, 0o755); // mkdtemp and umoci make 0700 dirs; the image root itself is what is tested
  await chmod(bundle, 0o755);
  const ran = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", join(rootfs, "opt/app/bin/tool")]);
  assert.equal(ran, "tool-ran\n");
  const runtime = await readJson(join(bundle, "config.json"));
  assert.deepEqual(runtime.process.args, ["/opt/app/bin/tool"]);
  assert.equal(runtime.process.cwd, "/opt/app");

  // skopeo: docker-archive conversion, and both archive readings of the exported dual tar
  await run("skopeo", ["copy", `oci:${out}:v1`, `docker-archive:${join(dir, "converted.tar")}:example/app:v1`]);
  await run("skopeo", ["inspect", `docker-archive:${join(dir, "converted.tar")}`]);
  for (const format of ["oci-archive", "docker-archive"] as const) {
    const file = join(dir, `export-${format}.tar`);
    const stream = createWriteStream(file);
    await exportImage(out, format, stream);
    if (!stream.writableFinished) await once(stream, "finish");
    const inspected = JSON.parse(await run("skopeo", ["inspect", `${format}:${file}`]));
    assert.equal(inspected.Layers.length, 2);
    assert.equal(inspected.Architecture, options().architecture);
    const raw = JSON.parse(await run("skopeo", ["inspect", "--raw", `${format}:${file}`]));
    assert.equal(raw.layers.length, 2);
  }
  const ociRaw = await run("skopeo", ["inspect", "--raw", `oci-archive:${join(dir, "export-oci-archive.tar")}:v1`]);
  assert.equal(`sha256:${createHash("sha256").update(ociRaw).digest("hex")}`, result.manifestDigest, "digest preserved");
});

test("the same tree built twice (other order, atimes, inodes, umask, store dir) gives the same digests (case 1)", async (t) => {
  const dir = await tempDir(t);
  const specs: Spec[] = [...appSpecs, ...libSpecs, { path: "z/a", file: "a" }, { path: "a/z", file: "z" }];
  const treeA = await makeTree(join(dir, "storeA/pkg"), specs);
  const treeB = await makeTree(join(dir, "storeB/elsewhere/pkg"), [...specs].reverse());
  await utimes(join(treeB, "z/a"), 12345, 67890);
  await utimes(join(treeA, "a/z"), 1e9, 1e9);
  const previous = process.umask(0o022);
  let a: WrittenImage;
  let b: WrittenImage;
  try {
    a = await build([[pkg("same-id", treeA)]], join(dir, "storeA/out"), join(dir, "storeA/cache"));
    process.umask(0o077);
    b = await build([[pkg("same-id", treeB)]], join(dir, "storeB/out"), join(dir, "storeB/cache"));
  } finally {
    process.umask(previous);
  }
  const configA = await readJson(blob(join(dir, "storeA/out"), a.configDigest));
  const configB = await readJson(blob(join(dir, "storeB/out"), b.configDigest));
  assert.deepEqual(configA.rootfs.diff_ids, configB.rootfs.diff_ids);
  assert.equal(a.manifestDigest, b.manifestDigest);
  assert.equal(a.configDigest, b.configDigest);
  // and a real change does change them (the test can fail)
  await writeFile(join(treeB, "z/a"), "changed");
  const c = await build([[pkg("other-id", treeB)]], join(dir, "storeC/out"), join(dir, "storeC/cache"));
  assert.notEqual(c.manifestDigest, a.manifestDigest);
});

test("rebuilding after changing one small layer re-tars only that layer (case 17)", async (t) => {
  const dir = await tempDir(t);
  const big1 = await makeTree(join(dir, "s/big1"), [{ path: "data/one", file: Buffer.alloc(2_000_000, 1) }]);
  const big2 = await makeTree(join(dir, "s/big2"), [{ path: "data/two", file: Buffer.alloc(2_000_000, 2) }]);
  const small1 = await makeTree(join(dir, "s/small1"), [{ path: "working-dir/my-file", file: "my-file-contents\n" }]);
  const small2 = await makeTree(join(dir, "s/small2"), [{ path: "working-dir/my-file", file: "changed\n" }]);
  const cache = join(dir, "cache");
  const first = await build([[pkg("b1", big1)], [pkg("b2", big2)], [pkg("s1", small1)]], join(dir, "out1"), cache);
  assert.deepEqual(first.layerCache, { hits: 0, misses: 3 });
  const same = await build([[pkg("b1", big1)], [pkg("b2", big2)], [pkg("s1", small1)]], join(dir, "out2"), cache);
  assert.deepEqual(same.layerCache, { hits: 3, misses: 0 });
  assert.equal(same.manifestDigest, first.manifestDigest);
  // the big packages are unreadable now: a hit must not open them
  await chmod(join(big1, "data/one"), 0);
  await chmod(join(big2, "data"), 0);
  const changed = await build([[pkg("b1", big1)], [pkg("b2", big2)], [pkg("s2", small2)]], join(dir, "out3"), cache);
  assert.deepEqual(changed.layerCache, { hits: 2, misses: 1 });
  assert.notEqual(changed.manifestDigest, first.manifestDigest);
  await run("oci-image-tool", ["validate", "--type", "image", join(dir, "out3")]);
  // blobs are shared with the cache by hardlinks
  const layerBlobs = (await readdir(join(dir, "out3/blobs/sha256")));
  const linked = await Promise.all(layerBlobs.map(async (h) => (await stat(join(dir, "out3/blobs/sha256", h))).nlink));
  assert.equal(linked.filter((n) => n >= 2).length, 3, "the three layer blobs are hardlinks");
});

test("a conflict in a merged layer warns once, on a cache hit too (case 10)", async (t) => {
  const dir = await tempDir(t);
  const a = await makeTree(join(dir, "s/a"), [{ path: "etc/motd", file: "a\n" }]);
  const b = await makeTree(join(dir, "s/b"), [{ path: "etc/motd", file: "b\n" }]);
  const layers = planLayers([pkg("a", a, [], "pkg-a"), pkg("b", b, [], "pkg-b")], 1);
  assert.equal(layers.length, 1);
  const warnings: string[] = [];
  await build(layers, join(dir, "o1"), join(dir, "c"), {}, warnings);
  await build(layers, join(dir, "o2"), join(dir, "c"), {}, warnings);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1] as string, /etc\/motd is in both pkg-b and pkg-a .*keeps the one from pkg-b/);
  const bundle = join(dir, "bundle");
  await run("umoci", ["unpack", "--image", `${join(dir, "o2")}:v1`, bundle]);
  assert.equal(await readFile(join(bundle, "rootfs/etc/motd"), "utf8"), "b\n", "the package listed later wins, as from a layer above");
});

test("SOURCE_DATE_EPOCH shapes created and every history entry", async (t) => {
  const dir = await tempDir(t);
  const p = await makeTree(join(dir, "p"), [{ path: "x", file: "x" }]);
  const opts = validateImageOptions({}, defaults, { SOURCE_DATE_EPOCH: "86400" });
  const r = await writeImage({ layers: [[pkg("p", p)]], options: opts, outDir: join(dir, "o"), cacheDir: join(dir, "c"), concurrency: 1, onWarning: () => undefined });
  const config = await readJson(blob(join(dir, "o"), r.configDigest));
  assert.equal(config.created, "1970-01-02T00:00:00Z");
  assert.equal(config.history[0].created, "1970-01-02T00:00:00Z");
  await run("oci-image-tool", ["validate", "--type", "config", blob(join(dir, "o"), r.configDigest)]);
});

test("over budget, a popular package's own layer below the shared one: a file it would win is named when hidden", async (t) => {
  const dir = await tempDir(t);
  const a = await makeTree(join(dir, "s/a"), [{ path: "etc/motd", file: "A\n" }]);
  const b = await makeTree(join(dir, "s/b"), [{ path: "etc/motd", file: "B\n" }, { path: "etc/b-only", file: "b" }]);
  const d = await makeTree(join(dir, "s/d"), [{ path: "d", file: "d" }]);
  const e = await makeTree(join(dir, "s/e"), [{ path: "e", file: "e" }]);
  // b is needed by d and e: the most popular, so it gets the bottom layer; a, d and e share the last one.
  const packages = [pkg("a", a, [], "pkg-a"), pkg("b", b, [], "pkg-b"), pkg("d", d, ["b"], "pkg-d"), pkg("e", e, ["b"], "pkg-e")];
  const layers = planLayers(packages, 2);
  assert.deepEqual(layers.map((l) => l.map((p) => p.name)), [["pkg-b"], ["pkg-a", "pkg-d", "pkg-e"]]);
  const warnings: string[] = [];
  const r = await writeImage({ layers, options: options({}), outDir: join(dir, "o"), cacheDir: join(dir, "c"), concurrency: 1, onWarning: (w) => warnings.push(w), order: dependencyOrder(packages) });
  assert.ok(r.manifestDigest.startsWith("sha256:"));
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0] as string, /^pkg-b's \/etc\/motd is hidden by pkg-a's copy in a layer above, although pkg-b comes later .*raise maxLayers to at least 4/);
  // within budget nothing is hidden and nothing is said
  const quiet: string[] = [];
  await writeImage({ layers: planLayers(packages, 65), options: options({}), outDir: join(dir, "o2"), cacheDir: join(dir, "c"), concurrency: 1, onWarning: (w) => quiet.push(w), order: dependencyOrder(packages) });
  assert.deepEqual(quiet, []);
});
