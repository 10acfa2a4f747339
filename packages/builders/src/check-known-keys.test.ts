import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "@makes/core";
import { debianInputs } from "./debian-inputs.js";
import { fetchUrl } from "./fetch-node.js";
import { makeContainerImage } from "./make-container-image.js";
import { makeDerivation } from "./make-derivation.js";
import { makeScript } from "./make-script.js";

function refuses(call: () => unknown, message: string): void {
  assert.throws(call, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.reason, "bad-argument");
    assert.equal(err.message, message);
    return true;
  });
}

test("every builder refuses an unknown key the same way, with the closest known one when there is one", () => {
  const dep = makeDerivation({ name: "dep", builder: "mkdir $out" });
  refuses(() => makeDerivation({ name: "x", builder: "mkdir $out", enV: {} } as never), 'makeDerivation "x": unknown argument "enV" (did you mean "env"?); the arguments are name, builder, env, searchPaths, outputHash, runtimeDeps');
  refuses(() => makeDerivation({ name: "x", builder: "mkdir $out", searchPaths: { lib: [dep] } } as never), 'makeDerivation "x": searchPaths: unknown key "lib"; the only key is bin');
  refuses(() => makeDerivation({ name: "x", builder: "mkdir $out", searchPaths: { bins: [dep] } } as never), 'makeDerivation "x": searchPaths: unknown key "bins" (did you mean "bin"?); the only key is bin');
  refuses(() => makeScript({ name: "s", entrypoint: "true", searchPaths: { lib: [] } } as never), 'makeScript "s": searchPaths: unknown key "lib"; the only key is bin');
  refuses(() => makeScript({ name: "s", entrypoint: "true", entryPoint: "x" } as never), 'makeScript "s": unknown argument "entryPoint" (did you mean "entrypoint"?); the arguments are name, entrypoint, env, searchPaths');
  refuses(() => makeContainerImage({ layer: [dep] } as never), 'makeContainerImage: unknown argument "layer" (did you mean "layers"?); the arguments are layers, maxLayers, config, name, tag, fromImage, fromImageTag, architecture, os, created');
  refuses(() => fetchUrl({ url: "https://e.org/f", sha: "a".repeat(64) } as never), 'fetchUrl: unknown argument "sha" (did you mean "sha256"?); the arguments are url, sha256, name');
  refuses(() => debianInputs.package("coreutils", { keepdocs: true } as never), 'inputs.debian.package("coreutils"): unknown option "keepdocs" (did you mean "keepDocs"?); the options are keepDocs, exclude');
  refuses(() => debianInputs.package("coreutils", { purge: true } as never), 'inputs.debian.package("coreutils"): unknown option "purge"; the options are keepDocs, exclude');
  refuses(() => debianInputs.package("coreutils", { keepDocs: "yes" } as never), 'inputs.debian.package("coreutils"): keepDocs must be true or false, got "yes"');
});

test("the known keys are still accepted", () => {
  const dep = makeDerivation({ name: "dep", builder: "mkdir $out" });
  assert.ok(makeDerivation({ name: "x", builder: "mkdir $out", env: {}, searchPaths: { bin: [dep] }, runtimeDeps: [dep] }));
  assert.ok(makeScript({ name: "s", entrypoint: "true", env: {}, searchPaths: {} }));
  assert.ok(debianInputs.package("coreutils", { keepDocs: true, exclude: [] }));
});
