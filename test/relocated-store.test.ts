/**
 * A store moved to another location (the project moved with its .makes, a CI cache restored elsewhere):
 * outputs that spell the old location are rebuilt, never reported as hits; the others stay cached.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rename, symlink } from "node:fs/promises";
import { join } from "node:path";
import { jsonEvents, makeProject, makesTs, runMakes, shown, stdoutLines, tempDir, type MakesResult } from "./helpers/project.js";

const PROJECT = makesTs(
  [
    // spells its own store path in a file (a script that sources a dependency)
    `  const lib = makeDerivation({ name: "lib", builder: "mkdir $out && echo 'echo lib-ok' > $out/lib.sh" });`,
    `  const app = makeDerivation({ name: "app", builder: \`mkdir -p $out/bin && printf '#!/bin/sh\\\\n. ${"${lib}"}/lib.sh\\\\n' > $out/bin/app && chmod +x $out/bin/app\` });`,
    // spells nothing of the store, and nor do its dependencies
    `  const plain = makeDerivation({ name: "plain", builder: "mkdir $out && echo plain > $out/file" });`,
    // spells the location only inside a tarball, where no search sees it
    `  const packed = makeDerivation({ name: "packed", builder: \`mkdir $out && tar -C ${"${app}"} -czf $out/app.tgz .\` });`,
    `  const image = makeContainerImage({ layers: [app, plain] });`,
    `  return { jobs: { "/app": app, "/plain": plain, "/packed": packed, "/image": image } };`,
  ].join("\n"),
).replace("({ makeDerivation, makeScript, projectPath }", "({ makeDerivation, makeContainerImage }");

async function run(dir: string, jobs: string[]): Promise<{ r: MakesResult; built: string[]; cached: string[] }> {
  const r = await runMakes(dir, ["run", "--reporter", "json", ...jobs]);
  assert.equal(r.code, 0, shown(r));
  const labels = (type: string): string[] =>
    jsonEvents(r)
      .filter((e) => e.type === type)
      .map((e) => (e.node as { label: string }).label)
      .sort();
  return { r, built: labels("node-built"), cached: labels("node-cached") };
}

test("a moved store rebuilds what spells its old location, keeps what does not, and the image's layer follows", async (t) => {
  const parent = await tempDir(t);
  const first = join(parent, "first");
  await rename(await makeProject(t, { "makes.ts": PROJECT }), first);
  const jobs = ["/app", "/plain", "/packed", "/image"];
  const before = await run(first, jobs);
  assert.deepEqual(before.built, ["/app", "/image", "/packed", "/plain", "lib"]);

  const moved = join(parent, "moved");
  await rename(first, moved);
  const after = await run(moved, jobs);
  assert.deepEqual(after.built, ["/app", "/image", "/packed"], "what spells the old store is rebuilt, also where only a dependency's output does");
  assert.deepEqual(after.cached, ["/plain", "lib"], "outputs that spell no store location are still hits");
  const [appPath] = stdoutLines(after.r);
  assert.ok(appPath?.startsWith(moved), appPath);
  assert.equal(execFileSync(join(appPath ?? "", "bin", "app"), { encoding: "utf8" }), "lib-ok\n", "the rebuilt app sources the lib in the moved store");
  assert.ok((await readFile(join(appPath ?? "", "bin", "app"), "utf8")).includes(join(moved, ".makes", "store")));

  const log = await runMakes(moved, ["log", "/image"]);
  assert.match(log.stdout, /layer cache: \d+ hits?, [1-9]\d* miss/, `the app's layer is written again, not taken from the cache:\n${log.stdout}`);

  const again = await run(moved, jobs);
  assert.deepEqual(again.built, [], "once rebuilt in the moved store, everything is a hit");
});

test("one store reached through a symlink and by its real path is one store: no rebuild when the spelling changes", async (t) => {
  const parent = await tempDir(t);
  const real = join(parent, "real-store");
  const link = join(parent, "store-link");
  await mkdir(real);
  await symlink(real, link);
  const dir = await makeProject(t, { "makes.ts": PROJECT });
  const first = await run(dir, ["--store", link, "/app"]);
  assert.deepEqual(first.built, ["/app", "lib"]);
  assert.ok(stdoutLines(first.r)[0]?.startsWith(join(real, "store")), "paths are spelled by the store's real path");
  for (const store of [real, link, join(link, "..", "real-store")]) {
    assert.deepEqual((await run(dir, ["--store", store, "/app"])).built, [], `the same store, however it is spelled (${store})`);
  }
});

test("makes why in a moved store: a path built for the old location says so, naming both, not that it was deleted", async (t) => {
  const parent = await tempDir(t);
  const first = join(parent, "first");
  await rename(await makeProject(t, { "makes.ts": PROJECT }), first);
  await run(first, ["/app", "/plain"]);
  const moved = join(parent, "moved");
  await rename(first, moved);

  const why = await runMakes(moved, ["why", "/app"]);
  assert.equal(why.code, 0, shown(why));
  assert.equal(
    why.stdout,
    `/app: built for the store at ${join(first, ".makes")} (this store is at ${join(moved, ".makes")}), and its output may name that location: it will be rebuilt here\n`,
    "lib spells no location and stays valid: only /app is listed",
  );
  assert.doesNotMatch(why.stdout, /deleted|missing/);
  const json = await runMakes(moved, ["why", "/app", "--json"]);
  assert.deepEqual(
    (JSON.parse(json.stdout) as Array<Record<string, unknown>>).map(({ reason, label, builtIn }) => ({ reason, label, builtIn })),
    [{ reason: "built-elsewhere", label: "/app", builtIn: join(first, ".makes") }],
  );
  const plain = await runMakes(moved, ["why", "/plain"]);
  assert.match(plain.stdout, /^\/plain is built and up to date/m, "a path that spells no location is still valid");

  await run(moved, ["/app"]);
  const after = await runMakes(moved, ["why", "/app"]);
  assert.match(after.stdout, /^\/app is built and up to date/m, shown(after));
});
