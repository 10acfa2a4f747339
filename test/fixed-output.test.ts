/** makeDerivation with outputHash: a fixed-output derivation, whose store path is its promised content's. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { jsonEvents, makeProject, makesTs, runMakes, shown, stdoutLines, type MakesResult } from "./helpers/project.js";
import { storeOf, validPaths } from "./helpers/store.js";

const HELLO_SHA = createHash("sha256").update("hello\n").digest("hex");

function project(builder: string, outputHash = HELLO_SHA, depText = "v1"): string {
  return makesTs(
    [
      `  const tool = makeDerivation({ name: "tool", builder: ${JSON.stringify(`mkdir -p $out && echo ${depText} > $out/version`)} });`,
      `  const fixed = makeDerivation({ name: "fixed", env: { tool }, outputHash: ${JSON.stringify(outputHash)}, builder: ${JSON.stringify(builder)} });`,
      `  const user = makeDerivation({ name: "user", env: { fixed }, builder: 'mkdir -p "$out" && cp "$fixed" "$out/copy"' });`,
      `  return { jobs: { "/fixed": fixed, "/user": user } };`,
    ].join("\n"),
  );
}

async function run(dir: string, job: string): Promise<{ r: MakesResult; built: string[] }> {
  const r = await runMakes(dir, ["run", "--reporter", "json", job]);
  const built = jsonEvents(r)
    .filter((e) => e.type === "node-built")
    .map((e) => (e.node as { label: string }).label);
  return { r, built };
}

test("a fixed-output derivation: the path depends on name and outputHash only, not on the builder or its dependencies", async (t) => {
  const dir = await makeProject(t, { "makes.ts": project("echo hello > $out") });
  const first = await run(dir, "/user");
  assert.equal(first.r.code, 0, shown(first.r));
  assert.deepEqual(first.built.sort(), ["/fixed", "/user", "tool"]);
  const [userPath] = stdoutLines(first.r);
  assert.equal(await readFile(join(userPath ?? "", "copy"), "utf8"), "hello\n");
  const fixedPath = stdoutLines(await runMakes(dir, ["run", "/fixed"]))[0];

  // Another builder that makes the same bytes: same path, nothing downstream rebuilt.
  await writeFile(join(dir, "makes.ts"), project("printf 'hello\\n' > $out"));
  const rewritten = await run(dir, "/user");
  assert.equal(rewritten.r.code, 0, shown(rewritten.r));
  assert.deepEqual(rewritten.built, [], "a new builder with the same outputHash rebuilds nothing");
  assert.deepEqual(stdoutLines(rewritten.r), [userPath]);
  assert.deepEqual(stdoutLines(await runMakes(dir, ["run", "/fixed"])), [fixedPath]);

  // A dependency of the builder changes: the dependency is built, the fixed output is not.
  await writeFile(join(dir, "makes.ts"), project("printf 'hello\\n' > $out", HELLO_SHA, "v2"));
  const depChanged = await run(dir, "/user");
  assert.equal(depChanged.r.code, 0, shown(depChanged.r));
  assert.deepEqual(depChanged.built, ["tool"], "only the changed dependency is built");
  assert.deepEqual(stdoutLines(depChanged.r), [userPath]);

  // A different promise is a different path.
  const otherSha = createHash("sha256").update("other\n").digest("hex");
  await writeFile(join(dir, "makes.ts"), project("echo other > $out", otherSha));
  const other = await run(dir, "/fixed");
  assert.equal(other.r.code, 0, shown(other.r));
  assert.notDeepEqual(stdoutLines(other.r), [fixedPath]);
});

test("a fixed-output derivation whose output does not match: both hashes, exit 1, nothing stored for it", async (t) => {
  const dir = await makeProject(t, { "makes.ts": project("echo goodbye > $out") });
  const r = await runMakes(dir, ["run", "/fixed"]);
  assert.equal(r.code, 1, shown(r));
  assert.ok(r.stderr.includes(HELLO_SHA), `names the expected hash:\n${r.stderr}`);
  assert.ok(r.stderr.includes(createHash("sha256").update("goodbye\n").digest("hex")), `names the actual hash:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  const valid = await validPaths(storeOf(dir));
  assert.ok(!valid.some((p) => p.endsWith("-fixed")), `no valid path for the fixed output: ${valid.join(", ")}`);
});

test("a fixed-output derivation whose output names a store path is refused: its path would be right in this store only", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      [
        `  const dep = makeDerivation({ name: "dep", builder: "echo dep > $out" });`,
        // whatever outputHash says, the content is a store path: that is said first (a new hash would not help)
        `  const f = makeDerivation({ name: "f", env: { dep }, outputHash: "${"0".repeat(64)}", builder: 'echo "$dep" > "$out"' });`,
        `  return { jobs: { "/f": f } };`,
      ].join("\n"),
    ),
  });
  const r = await runMakes(dir, ["run", "/f"]);
  assert.equal(r.code, 1, shown(r));
  assert.match(r.stderr, /^failed {3}\/f: the output of a fixed-output derivation names a store path/m);
  assert.doesNotMatch(r.stderr, /does not match outputHash/, "not sent off to update outputHash first");
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
