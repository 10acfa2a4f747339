/**
 * ../shared/cases/caching.md case 3 with its stretch: B uses A's output. A change to A's output rebuilds B;
 * a change to A's *input* that leaves A's output byte-identical (a comment A's builder strips) does not run
 * B's builder again (early cutoff), and neither does it run the builders further down. An output is never
 * reused when it spells a store path that differs (a dependency's that changed, or its own), nor when it
 * was changed by hand after it was built.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { jsonEvents, makeProject, makesTs, runMakes, shown, stdoutLines, type MakesResult } from "./helpers/project.js";

const CHAIN = makesTs(
  [
    // A strips comment lines: editing a comment changes A's hash, not A's output.
    `  const a = makeDerivation({ name: "a", env: { src: projectPath("/a") }, builder: "grep -v '^#' $src/in.txt > $out" });`,
    `  const b = makeDerivation({ name: "b", env: { a }, builder: "tr a-z A-Z < $a > $out" });`,
    `  const c = makeDerivation({ name: "c", env: { b }, builder: "mkdir -p $out && cat $b $b > $out/twice" });`,
    // D's output spells B's store path, which changes with A's input: D must be rebuilt every time.
    `  const d = makeDerivation({ name: "d", env: { b }, builder: "echo $b > $out" });`,
    // E's output spells its own store path.
    `  const e = makeDerivation({ name: "e", env: { a }, builder: "mkdir -p $out && echo $out > $out/self" });`,
    `  return { jobs: { "/a": a, "/b": b, "/c": c, "/d": d, "/e": e } };`,
  ].join("\n"),
);
const JOBS = ["/c", "/d", "/e"];

interface Run {
  readonly r: MakesResult;
  readonly paths: string[];
  readonly started: string[];
  readonly cutoff: Map<string, string>;
}

async function run(dir: string): Promise<Run> {
  const r = await runMakes(dir, ["run", "--reporter", "json", ...JOBS]);
  assert.equal(r.code, 0, shown(r));
  const events = jsonEvents(r);
  const labelOf = (e: Record<string, unknown>): string => (e.node as { label: string }).label;
  return {
    r,
    paths: stdoutLines(r),
    started: events.filter((e) => e.type === "node-started").map(labelOf).sort(),
    cutoff: new Map(events.filter((e) => e.type === "node-cached" && typeof e.reusedFrom === "string").map((e) => [labelOf(e), String(e.reusedFrom)])),
  };
}

test("3. B uses A: A's output changing rebuilds B; A's input changing with an identical output does not (early cutoff), down the chain", async (t) => {
  const dir = await makeProject(t, { "makes.ts": CHAIN, "a/in.txt": "hello\n# comment 1\n" });
  const first = await run(dir);
  assert.deepEqual(first.started, ["/a", "/b", "/c", "/d", "/e", "projectPath(/a)"]);
  const [c1, d1, e1] = first.paths;

  await writeFile(join(dir, "a/in.txt"), "hello\n# comment 2\n");
  const second = await run(dir);
  // A is rebuilt (its input changed); B and C are not built, their outputs are copied; D and E spell store
  // paths that changed, so they are built again.
  assert.deepEqual(second.started, ["/a", "/d", "/e", "projectPath(/a)"]);
  assert.deepEqual([...second.cutoff.keys()].sort(), ["/b", "/c"]);
  const [c2, d2, e2] = second.paths;
  assert.notEqual(c2, c1, "C's hash still follows its inputs: a new path");
  assert.equal(second.cutoff.get("/c"), c1, "copied from the earlier C");
  assert.equal(await readFile(join(c2 ?? "", "twice"), "utf8"), "HELLO\nHELLO\n");
  assert.notEqual(d2, d1);
  const b2 = (await readFile(d2 ?? "", "utf8")).trim();
  assert.match(b2, /-b$/);
  assert.equal(await readFile(b2, "utf8"), "HELLO\n", "D names the new B, which holds B's output");
  // $out is a temporary path named after the hash (docs/design.md), so E's output spells its own hash.
  const hashOf = (path: string | undefined): string => (path ?? "").split("/").pop()?.slice(0, 32) ?? "";
  const self = await readFile(join(e2 ?? "", "self"), "utf8");
  assert.ok(self.includes(hashOf(e2)) && !self.includes(hashOf(e1)), `E spells its own new hash, not the old one: ${self}`);
  assert.notEqual(e2, e1);
  assert.match(second.r.stderr, /"reusedFrom"/);
  const plain = await runMakes(dir, ["run", "--reporter", "plain", "/c"]);
  assert.equal(plain.code, 0, shown(plain));
  const verify = await runMakes(dir, ["verify"]);
  assert.equal(verify.code, 0, shown(verify));
  const log = await runMakes(dir, ["log", "/c"]);
  assert.equal(log.code, 0, `a reused output keeps the log of the build that made it: ${shown(log)}`);

  // A's output changes: B, C, D and E are all built.
  await writeFile(join(dir, "a/in.txt"), "hello, world\n# comment 2\n");
  const third = await run(dir);
  assert.deepEqual(third.started, ["/a", "/b", "/c", "/d", "/e", "projectPath(/a)"]);
  assert.equal(third.cutoff.size, 0);
  assert.equal(await readFile(join(third.paths[0] ?? "", "twice"), "utf8"), "HELLO, WORLD\nHELLO, WORLD\n");

  // Back to the first input: everything is the first build's paths, plain cache hits.
  await writeFile(join(dir, "a/in.txt"), "hello\n# comment 1\n");
  const fourth = await run(dir);
  assert.deepEqual(fourth.started, []);
  assert.deepEqual(fourth.paths, first.paths);
});

test("early cutoff never reuses an output that was changed by hand after it was built", async (t) => {
  const dir = await makeProject(t, { "makes.ts": CHAIN, "a/in.txt": "hello\n# comment 1\n" });
  const first = await run(dir);
  const c1 = first.paths[0] ?? "";
  await chmod(join(c1, "twice"), 0o644);
  await writeFile(join(c1, "twice"), "tampered\n");
  await writeFile(join(dir, "a/in.txt"), "hello\n# comment 2\n");
  const second = await run(dir);
  assert.ok(second.started.includes("/c"), `C is built, not copied from the changed output: ${shown(second.r)}`);
  assert.ok(!second.cutoff.has("/c"));
  assert.ok(second.cutoff.has("/b"), "B, untouched, is still copied: the cutoff was in effect");
  assert.equal(await readFile(join(second.paths[0] ?? "", "twice"), "utf8"), "HELLO\nHELLO\n");
});
