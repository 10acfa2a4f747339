import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "@makes/core";
import { readBaseImage } from "./read-base-image.js";
import { mergeImageConfig } from "./merge-image-config.js";
import { planLayers } from "./plan-layers.js";
import { validateImageOptions } from "./validate-image-options.js";
import { writeImage } from "./write-image.js";
import { makeTree, pkg, run, tempDir } from "./oci-test-helpers.js";

const defaults = { name: "example/app", tag: "v1", jobLabel: "/test" };

async function baseImage(dir: string): Promise<string> {
  const root = await makeTree(join(dir, "s/base"), [{ path: "usr/bin/base-tool", file: "base\n", mode: 0o755 }, { path: "etc/motd", file: "base motd\n" }]);
  const options = validateImageOptions({ config: { Env: ["PATH=/usr/bin", "LANG=C"], Cmd: ["/usr/bin/base-tool"], User: "1000" } }, { ...defaults, name: "base" }, {});
  await writeImage({ layers: [[pkg("base", root)]], options, outDir: join(dir, "base"), cacheDir: join(dir, "cache"), concurrency: 1, onWarning: () => undefined });
  return join(dir, "base");
}

test("Env merges by name: the new value wins at the position its name first appeared (case 16)", () => {
  assert.deepEqual(
    mergeImageConfig({ Env: ["PATH=/usr/bin", "LANG=C"], Cmd: ["sh"] }, { Env: ["PATH=/opt/bin", "FOO=1"] }),
    { Env: ["PATH=/opt/bin", "LANG=C", "FOO=1"], Cmd: ["sh"] },
  );
  assert.deepEqual(mergeImageConfig({ Entrypoint: ["a"], WorkingDir: "/w" }, { Entrypoint: ["b"] }), { Entrypoint: ["b"], WorkingDir: "/w" });
});

for (const shape of ["an oci layout", "a docker-archive by skopeo", "an oci-archive by skopeo"] as const) {
  test(`fromImage as ${shape}: base layers first and unchanged, config inherited (case 16)`, async (t) => {
    const dir = await tempDir(t);
    const layout = await baseImage(dir);
    let source = layout;
    if (shape === "a docker-archive by skopeo") {
      source = join(dir, "base-docker.tar");
      await run("skopeo", ["copy", `oci:${layout}:v1`, `docker-archive:${source}:base:v1`]);
    } else if (shape === "an oci-archive by skopeo") {
      source = join(dir, "base-oci.tar");
      await run("skopeo", ["copy", `oci:${layout}:v1`, `oci-archive:${source}:v1`]);
    }
    const base = await readBaseImage(source, join(dir, "work"));
    assert.equal(base.layers.length, 1);
    const app = await makeTree(join(dir, "s/app"), [{ path: "opt/bin/app", file: "app\n", mode: 0o755 }]);
    const options = validateImageOptions({ config: { Env: ["PATH=/opt/bin", "FOO=1"], WorkingDir: "/opt" } }, defaults, {});
    const layers = planLayers([pkg("app", app)], options.maxLayers, base.layers.length);
    const out = join(dir, "image");
    const r = await writeImage({ layers, options, outDir: out, cacheDir: join(dir, "cache"), concurrency: 2, onWarning: () => undefined, base });
    await run("oci-image-tool", ["validate", "--type", "image", out]);
    const config = JSON.parse(await readFile(join(out, "blobs/sha256", r.configDigest.slice(7)), "utf8"));
    assert.deepEqual(config.config.Env, ["PATH=/opt/bin", "LANG=C", "FOO=1"]);
    assert.deepEqual(config.config.Cmd, ["/usr/bin/base-tool"]);
    assert.equal(config.config.User, "1000");
    assert.equal(config.config.WorkingDir, "/opt");
    assert.equal(config.rootfs.diff_ids.length, 2);
    assert.equal(config.rootfs.diff_ids[0], base.layers[0]?.diffId);
    assert.equal(config.history.length, 2);
    const manifest = JSON.parse(await readFile(join(out, "blobs/sha256", r.manifestDigest.slice(7)), "utf8"));
    assert.equal(manifest.layers[0].digest, base.layers[0]?.descriptor.digest, "the base blob is reused as is");
    const bundle = join(dir, "bundle");
    await run("umoci", ["unpack", "--image", `${out}:v1`, bundle]);
    await run("umoci", ["stat", "--image", `${out}:v1`]);
    assert.equal(await readFile(join(bundle, "rootfs/usr/bin/base-tool"), "utf8"), "base\n");
    assert.equal(await readFile(join(bundle, "rootfs/opt/bin/app"), "utf8"), "app\n");
    await run("skopeo", ["copy", `oci:${out}:v1`, `docker-archive:${join(dir, "out.tar")}:example/app:v1`]);
  });
}

test("a fromImage that is not an image is a clear error", async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(readBaseImage(join(dir, "missing"), join(dir, "w")), (e: unknown) => e instanceof ConfigError && /does not exist/.test(e.message));
  const empty = await makeTree(join(dir, "empty"), [{ path: "x", file: "x" }]);
  await assert.rejects(readBaseImage(empty, join(dir, "w")), /neither an OCI layout/);
});
