/**
 * makeContainerImage({ fromImage }) end to end: a base built by makes itself, and a base written by skopeo
 * (a different writer) kept in the project as a docker-archive. The base's layers come first and unchanged,
 * its config is inherited (Env merged by name, layers.md case 16), and the result is a valid image.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeProject, runMakes, shown, stdoutLines, tempDir } from "./helpers/project.ts";
import { storeOf } from "./helpers/store.ts";

interface Manifest {
  layers: Array<{ digest: string }>;
  config: { digest: string };
}

async function imageOf(path: string): Promise<{ manifest: Manifest; config: { config: { Env?: string[]; Entrypoint?: string[]; WorkingDir?: string }; rootfs: { diff_ids: string[] } } }> {
  const index = JSON.parse(await readFile(join(path, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
  const blob = (digest: string): string => join(path, "blobs", "sha256", digest.replace("sha256:", ""));
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]?.digest ?? ""), "utf8")) as Manifest;
  const config = JSON.parse(await readFile(blob(manifest.config.digest), "utf8"));
  return { manifest, config };
}

const MAKES_TS = `
export default ({ makeDerivation, makeContainerImage, projectPath }) => {
  const base = makeContainerImage({
    layers: [makeDerivation({ name: "base-files", builder: "mkdir -p $out/etc && echo base > $out/etc/base-release" })],
    config: { Env: ["PATH=/usr/bin", "LANG=C"], Entrypoint: ["/bin/sh"], WorkingDir: "/srv" },
  });
  const extra = makeDerivation({ name: "extra", builder: "mkdir -p $out/opt && echo extra > $out/opt/extra" });
  return {
    jobs: {
      "/base": base,
      "/derived": makeContainerImage({ fromImage: base, layers: [extra], config: { Env: ["PATH=/opt/bin", "FOO=1"] } }),
      "/fromSkopeo": makeContainerImage({ fromImage: \`\${projectPath("/images")}/base.tar\`, layers: [extra], config: { Env: ["FOO=2"] } }),
    },
  };
};
`;

test("fromImage: a base built by makes, then one written by skopeo copy", { timeout: 180_000 }, async (t) => {
  const dir = await makeProject(t, { "makes.ts": MAKES_TS, "images/.keep": "" });
  const baseRun = await runMakes(dir, ["run", "/base", "--reporter", "plain"]);
  assert.equal(baseRun.code, 0, shown(baseRun));
  const basePath = stdoutLines(baseRun)[0] ?? "";
  const base = await imageOf(basePath);

  const derivedRun = await runMakes(dir, ["run", "/derived", "--reporter", "plain"]);
  assert.equal(derivedRun.code, 0, shown(derivedRun));
  const derivedPath = stdoutLines(derivedRun)[0] ?? "";
  const derived = await imageOf(derivedPath);
  // The base's layers first and unchanged (same blobs), then one layer of our own.
  assert.deepEqual(derived.manifest.layers.slice(0, base.manifest.layers.length), base.manifest.layers);
  assert.equal(derived.manifest.layers.length, base.manifest.layers.length + 1);
  assert.deepEqual(derived.config.rootfs.diff_ids.slice(0, base.config.rootfs.diff_ids.length), base.config.rootfs.diff_ids);
  // layers.md case 16: one entry per name, the new value wins, at the position its name first appeared.
  assert.deepEqual(derived.config.config.Env, ["PATH=/opt/bin", "LANG=C", "FOO=1"]);
  assert.deepEqual(derived.config.config.Entrypoint, ["/bin/sh"]);
  assert.equal(derived.config.config.WorkingDir, "/srv");
  assert.match(execFileSync("oci-image-tool", ["validate", "--type", "image", derivedPath], { encoding: "utf8" }), /Validation succeeded/);

  // A base written by another tool: skopeo's docker-archive (uncompressed layers, its own config serialisation).
  execFileSync("skopeo", ["copy", `oci:${basePath}:latest`, `docker-archive:${join(dir, "images", "base.tar")}:example/base:1`]);
  const skopeoRun = await runMakes(dir, ["run", "/fromSkopeo", "--reporter", "plain"]);
  assert.equal(skopeoRun.code, 0, shown(skopeoRun));
  const fromSkopeoPath = stdoutLines(skopeoRun)[0] ?? "";
  const fromSkopeo = await imageOf(fromSkopeoPath);
  assert.deepEqual(fromSkopeo.config.rootfs.diff_ids.slice(0, base.config.rootfs.diff_ids.length), base.config.rootfs.diff_ids);
  assert.deepEqual(fromSkopeo.config.config.Env, ["PATH=/usr/bin", "LANG=C", "FOO=2"]);
  assert.match(execFileSync("oci-image-tool", ["validate", "--type", "image", fromSkopeoPath], { encoding: "utf8" }), /Validation succeeded/);
  if (process.getuid?.() !== 0) return t.skip("umoci unpack needs root");
  const bundle = join(await tempDir(t), "bundle");
  execFileSync("umoci", ["unpack", "--image", `${fromSkopeoPath}:latest`, bundle]);
  assert.equal((await readFile(join(bundle, "rootfs", "etc", "base-release"), "utf8")).trim(), "base");
  assert.equal((await readFile(join(bundle, "rootfs", "opt", "extra"), "utf8")).trim(), "extra");
});

test("fromImage that is not a node or a string naming one is refused before anything is built", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": `export default ({ makeContainerImage }) => ({ jobs: { "/x": makeContainerImage({ fromImage: "/var/lib/base.tar" }) } });`,
  });
  const r = await runMakes(dir, ["run", "/x", "--reporter", "plain"]);
  assert.equal(r.code, 2, shown(r));
  assert.match(r.stderr, /fromImage must be an image job/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test("an image in layers is refused before anything is built, suggesting fromImage", async (t) => {
  const cases = [
    ["makeContainerImage({ layers: [files, base] })", /^makes: error: makes\.ts:\d+:\d+: makeContainerImage: layers\[1\] is an image \(a makeContainerImage\), which cannot be a layer: its OCI layout files would land in the root; to build on top of it, pass it as fromImage instead$/m],
    ["makeContainerImage({ layers: [makeContainerImage({ name: \"example/base\", layers: [files] })] })", /makeContainerImage: layers\[0\] is the image "example\/base" \(a makeContainerImage\)/],
    // an image brought in as another package's runtime dependency: found when the graph is walked
    ["makeContainerImage({ layers: [makeDerivation({ name: \"tool\", builder: \"mkdir -p $out\", runtimeDeps: [base] })] })", /^makes: error: makeContainerImage: a runtime dependency of tool is an image \(a makeContainerImage\), which cannot be a layer: .*pass it as fromImage instead$/m],
  ] as const;
  for (const [image, pattern] of cases) {
    const dir = await makeProject(t, {
      "makes.ts": `export default ({ makeDerivation, makeContainerImage }) => {
  const files = makeDerivation({ name: "files", builder: "mkdir -p $out/etc && echo x > $out/etc/x" });
  const base = makeContainerImage({ layers: [files] });
  return { jobs: { "/base": base, "/image": ${image} } };
};`,
    });
    const r = await runMakes(dir, ["run", "/image", "--reporter", "plain"]);
    assert.equal(r.code, 2, shown(r));
    assert.match(r.stderr, pattern, shown(r));
    assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, shown(r));
    assert.equal(r.stdout, "");
    assert.ok(!existsSync(join(dir, ".makes", "store")) || readdirSync(join(dir, ".makes", "store")).length === 0, `nothing was built: ${shown(r)}`);
  }
});

test("a fromImage archive that is garbage, cut short or escapes fails its job in one line, leaving no lock or build directory", { timeout: 120_000 }, async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": `export default ({ makeDerivation, makeContainerImage, projectPath }) => ({ jobs: {
  "/base": makeContainerImage({ layers: [makeDerivation({ name: "files", builder: "mkdir -p $out/etc && head -c 100000 /dev/urandom > $out/etc/x" })] }),
  "/image": makeContainerImage({ fromImage: \`\${projectPath("/images")}/base.tar\`, layers: [makeDerivation({ name: "mine", builder: "mkdir -p $out/etc && echo mine > $out/etc/mine" })] }),
} });`,
    "images/base.tar": "garbage\n",
  });
  const base = await runMakes(dir, ["run", "/base", "--reporter", "plain"]);
  assert.equal(base.code, 0, shown(base));
  const work = await tempDir(t);
  execFileSync("skopeo", ["copy", `oci:${stdoutLines(base)[0] ?? ""}:latest`, `docker-archive:${join(work, "good.tar")}:base:1`]);
  const good = await readFile(join(work, "good.tar"));
  await mkdir(join(work, "sub"));
  await writeFile(join(work, "pwn"), "pwned\n");
  execFileSync("tar", ["-cPf", join(work, "evil.tar"), "-C", join(work, "sub"), "../pwn"]); // -P keeps the ../ name
  for (const [content, what] of [
    ["garbage\n", /is not a tar archive/],
    [good.subarray(0, Math.floor(good.length / 2)), /is truncated/],
    [await readFile(join(work, "evil.tar")), /has an entry outside the archive \("\.\.\/pwn"\)/],
  ] as const) {
    await writeFile(join(dir, "images", "base.tar"), content);
    const r = await runMakes(dir, ["run", "/image", "--reporter", "plain"]);
    assert.equal(r.code, 1, shown(r));
    const failed = r.stderr.split("\n").filter((l) => l.startsWith("failed "));
    assert.equal(failed.length, 1, shown(r));
    assert.match(failed[0] ?? "", /^failed {3}\/image: makeContainerImage: fromImage \S+-images\/base\.tar /);
    assert.match(failed[0] ?? "", what);
    assert.doesNotMatch(r.stderr, /\n\s+at |internal error|Error:/, shown(r));
    const layout = storeOf(dir);
    assert.deepEqual(await readdir(layout.locksDir).catch(() => []), [], "no lock left");
    assert.deepEqual(await readdir(layout.tmpDir).catch(() => []), [], "no build directory left");
  }
});
