import { test } from "node:test";
import assert from "node:assert/strict";
import { closestName } from "./closest-names.js";

test("closestName: a typo or another case is suggested, a different word is not", () => {
  assert.equal(closestName("keepdocs", ["keepDocs", "exclude"]), "keepDocs");
  assert.equal(closestName("excludes", ["keepDocs", "exclude"]), "exclude");
  assert.equal(closestName("Entrypoints", ["Env", "Entrypoint", "Cmd"]), "Entrypoint");
  assert.equal(closestName("amd46", ["amd64", "arm64"]), "amd64");
  assert.equal(closestName("sha", ["url", "sha256", "name"]), "sha256");
  assert.equal(closestName("lib", ["bin"]), undefined);
  assert.equal(closestName("x".repeat(1_000_000), ["bin"]), undefined);
  assert.equal(closestName("a", ["name", "env"]), undefined);
  assert.equal(closestName("anything", []), undefined);
});
