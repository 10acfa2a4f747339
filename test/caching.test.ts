/** ../shared/cases/caching.md, cases 1, 2, 4, 5, 6, 7, 8, 12 and 13, on the real CLI. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, chmod, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { finished, jsonEvents, makeProject, makesTs, runMakes, shown, spawnMakes, stdoutLines, tempDir, waitFor, writeFiles, type MakesResult } from "./helpers/project.js";
import { hashOfPath, metaHashes, outLinkTarget, readMeta, storeEntries, storeOf, validPaths } from "./helpers/store.js";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** Runs the jobs with --reporter json; returns the output paths and the labels of the nodes that were built. */
async function build(dir: string, jobs: string[], extra: string[] = []): Promise<{ paths: string[]; built: string[]; cached: string[]; r: MakesResult }> {
  const r = await runMakes(dir, ["run", "--reporter", "json", ...extra, ...jobs]);
  assert.equal(r.code, 0, shown(r));
  const events = jsonEvents(r);
  const labels = (type: string): string[] => events.filter((e) => e.type === type).map((e) => (e.node as { label: string }).label);
  return { paths: stdoutLines(r), built: labels("node-built"), cached: labels("node-cached"), r };
}

function git(dir: string, ...args: string[]): void {
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir, stdio: "pipe" });
}

const SOURCE_JOB = makesTs(
  [
    `  const pkg = makeDerivation({`,
    `    name: "pkg",`,
    `    env: { src: projectPath("/pkg") },`,
    `    builder: "mkdir -p $out && cd $src && find . -type f | sort > $out/files && cat $(find . -type f | sort) > $out/all",`,
    `  });`,
    `  return { jobs: { "/pkg": pkg } };`,
  ].join("\n"),
);

test("1. a source tree: edits inside rebuild, edits outside do not; new untracked files count, ignored ones do not; deletions count", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": SOURCE_JOB,
    "pkg/a.txt": "a\n",
    "pkg/sub/b.txt": "b\n",
    "other/c.txt": "c\n",
    ".gitignore": "*.log\n.makes/\n",
  });
  git(dir, "init", "-q");
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "init");

  const first = await build(dir, ["/pkg"]);
  assert.deepEqual(first.built, ["projectPath(/pkg)", "/pkg"], "the source tree and the job are built");
  assert.equal(await readFile(join(first.paths[0] ?? "", "all"), "utf8"), "a\nb\n");

  const again = await build(dir, ["/pkg"]);
  assert.deepEqual(again.built, [], "nothing changed: nothing built");
  assert.deepEqual(again.paths, first.paths);

  await writeFile(join(dir, "pkg", "a.txt"), "A\n");
  const edited = await build(dir, ["/pkg"]);
  assert.deepEqual(edited.built, ["projectPath(/pkg)", "/pkg"], "editing a file in /pkg rebuilds it");
  assert.notDeepEqual(edited.paths, first.paths);
  assert.equal(await readFile(join(edited.paths[0] ?? "", "all"), "utf8"), "A\nb\n");

  await writeFile(join(dir, "other", "c.txt"), "changed outside\n");
  await writeFile(join(dir, "makes.ts.bak"), "not part of /pkg\n");
  const outside = await build(dir, ["/pkg"]);
  assert.deepEqual(outside.built, [], "editing a file outside /pkg does not rebuild it");
  assert.deepEqual(outside.paths, edited.paths);

  await writeFile(join(dir, "pkg", "new.txt"), "new\n");
  const added = await build(dir, ["/pkg"]);
  assert.deepEqual(added.built, ["projectPath(/pkg)", "/pkg"], "a new untracked (not ignored) file rebuilds it");
  assert.match(await readFile(join(added.paths[0] ?? "", "files"), "utf8"), /\.\/new\.txt/);

  await writeFile(join(dir, "pkg", "debug.log"), "ignored by git\n");
  const ignored = await build(dir, ["/pkg"]);
  assert.deepEqual(ignored.built, [], "a file git ignores is not part of the tree");
  assert.deepEqual(ignored.paths, added.paths);

  await rm(join(dir, "pkg", "sub", "b.txt"));
  const deleted = await build(dir, ["/pkg"]);
  assert.deepEqual(deleted.built, ["projectPath(/pkg)", "/pkg"], "deleting a file rebuilds it (even a tracked one git still lists)");
  assert.doesNotMatch(await readFile(join(deleted.paths[0] ?? "", "files"), "utf8"), /b\.txt/);
});

test("1b. outside a git repository the source tree is every file (still without .makes and node_modules)", async (t) => {
  const dir = await makeProject(t, { "makes.ts": SOURCE_JOB, "pkg/a.txt": "a\n", "pkg/node_modules/x.js": "x" });
  const first = await build(dir, ["/pkg"]);
  assert.equal(await readFile(join(first.paths[0] ?? "", "files"), "utf8"), "./a.txt\n");
  await writeFile(join(dir, "pkg", "b.txt"), "b\n");
  const added = await build(dir, ["/pkg"]);
  assert.deepEqual(added.built, ["projectPath(/pkg)", "/pkg"]);
  await writeFile(join(dir, "pkg", "node_modules", "x.js"), "changed");
  const nm = await build(dir, ["/pkg"]);
  assert.deepEqual(nm.built, [], "node_modules is never part of a source tree");
});

test("2. changing only the executable bit of a source file changes the hash", async (t) => {
  const dir = await makeProject(t, { "makes.ts": SOURCE_JOB, "pkg/run.sh": { content: "echo hi\n", mode: 0o644 } });
  const first = await build(dir, ["/pkg"]);
  await chmod(join(dir, "pkg", "run.sh"), 0o755);
  const exec = await build(dir, ["/pkg"]);
  assert.deepEqual(exec.built, ["projectPath(/pkg)", "/pkg"]);
  assert.notEqual(hashOfPath(exec.paths[0] ?? ""), hashOfPath(first.paths[0] ?? ""));
  // the copy of the tree in the store keeps the bit
  const graph = await runMakes(dir, ["graph", "--format", "json", "/pkg"]);
  const source = (JSON.parse(graph.stdout) as { nodes: Array<{ kind: string; path: string }> }).nodes.find((n) => n.kind === "source");
  assert.equal(((await stat(join(source?.path ?? "", "run.sh"))).mode & 0o777).toString(8), "755");
  await chmod(join(dir, "pkg", "run.sh"), 0o644);
  const back = await build(dir, ["/pkg"]);
  assert.deepEqual(back.built, [], "back to the old mode: the old output is reused");
  assert.deepEqual(back.paths, first.paths);
  // other mode bits (group write) are not part of a source file's identity, as in git
  await chmod(join(dir, "pkg", "run.sh"), 0o664);
  assert.deepEqual((await build(dir, ["/pkg"])).built, []);
});

test("4. a store path deleted by hand is rebuilt, never reported as a hit", async (t) => {
  const dir = await makeProject(t, { "makes.ts": makesTs(`  return { jobs: { "/x": makeDerivation({ name: "x", builder: "mkdir -p $out && echo x > $out/f" }) } };`) });
  const first = await build(dir, ["/x"]);
  const path = first.paths[0] ?? "";
  await rm(path, { recursive: true });
  const again = await build(dir, ["/x"]);
  assert.deepEqual(again.built, ["/x"]);
  assert.deepEqual(again.cached, []);
  assert.deepEqual(again.paths, [path]);
  assert.equal(await readFile(join(path, "f"), "utf8"), "x\n");
  const dry = await runMakes(dir, ["run", "--dry-run", "/x"]);
  assert.equal(dry.code, 0);
  await rm(path, { recursive: true });
  const dry2 = await runMakes(dir, ["run", "--dry-run", "/x"]);
  assert.match(dry2.stderr, /would build \/x/, "--dry-run does not report a missing path as cached either");
});

test("5. one byte changed inside a store output: makes verify names the path and exits 1", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      `  const a = makeDerivation({ name: "a", builder: "mkdir -p $out/d && echo hello > $out/d/f && ln -s d/f $out/link" });\n  const b = makeDerivation({ name: "b", builder: "echo single file > $out" });\n  return { jobs: { "/a": a, "/b": b } };`,
    ),
  });
  const { paths } = await build(dir, ["/a", "/b"]);
  const [a, b] = paths as [string, string];
  const clean = await runMakes(dir, ["verify"]);
  assert.equal(clean.code, 0, shown(clean));
  assert.match(clean.stderr, /2 store paths and 0 cached layers checked, all intact/);

  await writeFile(join(a, "d", "f"), "hellp\n");
  const modified = await runMakes(dir, ["verify"]);
  assert.equal(modified.code, 1, shown(modified));
  assert.deepEqual(stdoutLines(modified), [`modified ${a}`]);

  await writeFile(join(a, "d", "f"), "hello\n");
  assert.equal((await runMakes(dir, ["verify"])).code, 0, "restored: intact again");
  await appendFile(b, "x");
  const file = await runMakes(dir, ["verify"]);
  assert.equal(file.code, 1);
  assert.deepEqual(stdoutLines(file), [`modified ${b}`]);
  await writeFile(b, "single file\n");
  await rm(join(a, "link"));
  await writeFiles(a, { link: { symlink: "d/elsewhere" } });
  const link = await runMakes(dir, ["verify"]);
  assert.equal(link.code, 1, "a changed symlink target is a change");
  assert.deepEqual(stdoutLines(link), [`modified ${a}`]);
  await chmod(b, 0o777);
  const mode = await runMakes(dir, ["verify"]);
  assert.deepEqual(stdoutLines(mode), [`modified ${a}`, `modified ${b}`].sort(), "a changed mode is a change");
  assert.match(mode.stderr, /makes verify --repair/, "says how to repair");

  const repair = await runMakes(dir, ["verify", "--repair"]);
  assert.equal(repair.code, 0, shown(repair));
  assert.deepEqual(stdoutLines(repair), [`modified ${a}`, `modified ${b}`].sort());
  const rebuilt = await build(dir, ["/a", "/b"]);
  assert.deepEqual(rebuilt.built.sort(), ["/a", "/b"], "the repaired paths are rebuilt");
  assert.deepEqual(rebuilt.paths, paths);
  assert.equal((await runMakes(dir, ["verify"])).code, 0, "intact after the rebuild");
});

test("5b. a cached layer blob changed by hand: verify names it; --repair removes it, and the next run writes the layer again", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      `  const a = makeDerivation({ name: "a", builder: "mkdir -p $out/etc && seq 1 20000 > $out/etc/numbers" });
  return { jobs: { "/img": makeContainerImage({ layers: [a] }) } };`,
    ).replace("({ makeDerivation, makeScript, projectPath }", "({ makeDerivation, makeContainerImage }"),
  });
  const { paths } = await build(dir, ["/img"]);
  const blobsDir = join(dir, ".makes", "oci-cache", "blobs", "sha256");
  const [blob] = await readdir(blobsDir);
  const blobPath = join(blobsDir, blob ?? "");
  const bytes = await readFile(blobPath);
  bytes[100] = (bytes[100] ?? 0) ^ 0xff; // same size: the cache's size check alone cannot see it
  await writeFile(blobPath, bytes);

  const found = await runMakes(dir, ["verify"]);
  assert.equal(found.code, 1, shown(found));
  assert.ok(stdoutLines(found).includes(`modified ${blobPath}`), `names the cached blob:\n${found.stdout}`);
  assert.ok(stdoutLines(found).includes(`modified ${paths[0] ?? ""}`), `names the image that links it:\n${found.stdout}`);

  const repair = await runMakes(dir, ["verify", "--repair"]);
  assert.equal(repair.code, 0, shown(repair));
  const again = await build(dir, ["/img"]);
  assert.deepEqual(again.built, ["/img"], "the image is rebuilt, its package is still valid");
  assert.deepEqual(again.paths, paths);
  assert.match((await runMakes(dir, ["log", "/img"])).stdout, /layer cache: 0 hits, 1 miss/);
  const clean = await runMakes(dir, ["verify"]);
  assert.equal(clean.code, 0, shown(clean));
  assert.match(clean.stderr, /1 cached layer checked, all intact/);
});

test("gc and verify --repair refuse while a build holds a lock on the store", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(`  return { jobs: { "/a": makeDerivation({ name: "a", builder: "echo a > $out" }), "/slow": makeDerivation({ name: "slow", builder: "sleep 30; mkdir $out" }) } };`),
  });
  const [a] = (await build(dir, ["/a"])).paths;
  await appendFile(a ?? "", "changed"); // something for --repair to remove
  const child = spawnMakes(dir, ["run", "/slow"]);
  t.after(() => child.kill("SIGKILL"));
  await waitFor("the build to hold its lock", async () => (await readdir(join(dir, ".makes", "locks")).catch(() => [] as string[])).some((f) => f.endsWith(".lock")));
  for (const args of [["gc"], ["verify", "--repair"]]) {
    const r = await runMakes(dir, args);
    assert.equal(r.code, 1, shown(r));
    assert.match(r.stderr, new RegExp(`makes ${args.join(" ")}: a build is running on this store \\(process ${child.pid}\\)`));
  }
  child.kill("SIGINT");
  await finished(child);
  assert.equal(await readFile(a ?? "", "utf8"), "a\nchanged", "nothing was removed");
});

test("6. two checkouts of the same project in two directories: the same hash for every job", async (t) => {
  const files = {
    "makes.ts": makesTs(
      [
        `  const src = projectPath("/src");`,
        `  const lib = makeDerivation({ name: "lib", env: { src }, builder: "mkdir -p $out && cp -r $src/. $out/ && echo $PWD $HOME > $out/where" });`,
        `  const app = makeDerivation({ name: "app", env: { lib, MODE: "release" }, builder: "mkdir -p $out && cat $lib/main.c > $out/app" });`,
        `  return { jobs: { "/lib": lib, "/app": app, "/tool": makeScript({ name: "tool", entrypoint: \`cat \${app}/app\` }) } };`,
      ].join("\n"),
    ),
    "src/main.c": "int main(void) { return 0; }\n",
    "src/run.sh": { content: "#!/bin/sh\n", mode: 0o755 },
    "src/link": { symlink: "main.c" },
  };
  const one = await makeProject(t, files);
  const parent = await tempDir(t);
  const two = join(parent, "somewhere", "else", "checkout");
  await writeFiles(two, files);
  git(two, "init", "-q");

  const graph = async (dir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<unknown> => {
    const r = await runMakes(dir, ["graph", "--format", "json", ...extra, "/app", "/lib", "/tool"], { env });
    assert.equal(r.code, 0, shown(r));
    const parsed = JSON.parse(r.stdout) as { nodes: Array<{ label: string; hash: string; path: string }> };
    return parsed.nodes.map((n) => [n.label, n.hash, n.path.split("/").pop()]);
  };
  const g1 = await graph(one);
  assert.deepEqual(await graph(two), g1);
  const elsewhere = await tempDir(t);
  assert.deepEqual(await graph(two, ["--store", join(elsewhere, "store")]), g1, "the store's location is not in any hash");
  assert.deepEqual(await graph(two, [], { MAKES_STORE: join(elsewhere, "env-store"), HOME: elsewhere, USER: "someone", TZ: "Asia/Tokyo" }), g1, "nor the caller's environment");
  const [b1, b2] = await Promise.all([build(one, ["/app", "/lib"]), build(two, ["/app", "/lib"])]);
  assert.deepEqual(b1.paths.map((p) => p.split("/").pop()), b2.paths.map((p) => p.split("/").pop()));
});

test("7. a secret in the caller's environment is invisible to builders", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      `  return { jobs: { "/env": makeDerivation({ name: "env", env: { DECLARED: "yes" }, builder: 'mkdir -p $out && echo "\${API_TOKEN:-unset}" > $out/token && env | sort > $out/env && echo "$HOME" > $out/home' }) } };`,
    ),
  });
  const { paths } = await build(dir, ["/env"]);
  // rebuild with the secret set, from scratch (the secret must not be part of the hash either)
  await rm(join(dir, ".makes"), { recursive: true });
  const r = await runMakes(dir, ["run", "/env"], { env: { API_TOKEN: "secret", MAKES_SENTINEL: "leaked-value", HOME: "/root/somewhere" } });
  assert.equal(r.code, 0, shown(r));
  const out = stdoutLines(r)[0] ?? "";
  assert.deepEqual([out], paths, "the caller's environment is not part of the hash");
  assert.equal(await readFile(join(out, "token"), "utf8"), "unset\n");
  assert.equal(await readFile(join(out, "home"), "utf8"), "/homeless-shelter\n");
  const env = await readFile(join(out, "env"), "utf8");
  assert.doesNotMatch(env, /secret|leaked-value|API_TOKEN|MAKES_SENTINEL/);
  assert.match(env, /^DECLARED=yes$/m);
  const names = env.split("\n").filter((l) => l !== "").map((l) => l.slice(0, l.indexOf("=")));
  const allowed = new Set(["DECLARED", "out", "PATH", "HOME", "TMPDIR", "SOURCE_DATE_EPOCH", "LANG", "TZ", "PWD", "SHLVL", "_", "OLDPWD"]);
  assert.deepEqual(names.filter((n) => !allowed.has(n)), [], "only the documented variables reach the builder");
  assert.match(env, /^PATH=\/usr\/local\/bin:\/usr\/bin:\/bin$/m);
  // and nothing in the store mentions the secret
  const grep = spawnSync("grep", ["-rl", "secret", storeOf(dir).root], { encoding: "utf8" });
  assert.equal(grep.status, 1, `grep found the secret in: ${grep.stdout}${grep.stderr}`);
});

test("8. makes why names the changed file (old and new digests), the changed env value, the changed dependency", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      [
        `  const a = makeDerivation({ name: "a", env: { src: projectPath("/src"), WHO: "world" }, builder: "mkdir -p $out && cat $src/a.txt > $out/a && echo $WHO >> $out/a" });`,
        `  const b = makeDerivation({ name: "b", env: { a }, builder: "mkdir -p $out && cp $a/a $out/b" });`,
        `  return { jobs: { "/a": a, "/b": b } };`,
      ].join("\n"),
    ),
    "src/a.txt": "one\n",
    "src/keep.txt": "unchanged\n",
  });
  await build(dir, ["/b"]);
  const upToDate = await runMakes(dir, ["why", "/b"]);
  assert.equal(upToDate.code, 0, shown(upToDate));
  assert.match(upToDate.stdout, /\/b is built and up to date/);

  await writeFile(join(dir, "src", "a.txt"), "two\n");
  const file = await runMakes(dir, ["why", "/b"]);
  assert.equal(file.code, 0, shown(file));
  assert.match(file.stdout, /source file a\.txt changed/);
  assert.ok(file.stdout.includes(sha256("one\n")), `the old digest:\n${file.stdout}`);
  assert.ok(file.stdout.includes(sha256("two\n")), `the new digest:\n${file.stdout}`);
  assert.doesNotMatch(file.stdout, /keep\.txt/, "only what changed");
  assert.match(file.stdout, /^\/a: inputs changed/m);
  assert.match(file.stdout, /dependency projectPath\(\/src\) changed/);
  assert.match(file.stdout, /^\/b: inputs changed/m);
  assert.match(file.stdout, /dependency \/a changed/);

  await writeFile(join(dir, "src", "a.txt"), "one\n");
  await writeFile(join(dir, "makes.ts"), (await readFile(join(dir, "makes.ts"), "utf8")).replace(`WHO: "world"`, `WHO: "there"`));
  const env = await runMakes(dir, ["why", "/b"]);
  assert.equal(env.code, 0, shown(env));
  assert.match(env.stdout, /env WHO changed: world → there/);
  assert.doesNotMatch(env.stdout, /source file/, "the file is back as it was");
  assert.match(env.stdout, /dependency \/a changed/);

  const json = await runMakes(dir, ["why", "--json", "/b"]);
  const parsed = JSON.parse(json.stdout) as Array<{ label: string; reason: string; changes?: Array<{ input: string }> }>;
  assert.deepEqual(parsed.map((e) => [e.label, e.reason]), [["/a", "inputs-changed"], ["/b", "inputs-changed"]]);
  assert.deepEqual(parsed[0]?.changes?.map((c) => c.input), ["env.WHO"]);

  await rm(join(storeOf(dir).storeDir, (await storeEntries(storeOf(dir))).find((e) => e.endsWith("-b")) ?? "missing"), { recursive: true });
  await writeFile(join(dir, "makes.ts"), (await readFile(join(dir, "makes.ts"), "utf8")).replace(`WHO: "there"`, `WHO: "world"`));
  const missing = await runMakes(dir, ["why", "/b"]);
  assert.match(missing.stdout, /\/b: output missing/);
});

test("12. two makes processes at once on one store: built once, both exit 0, the same path", async (t) => {
  const counter = join(await tempDir(t), "builds");
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      `  return { jobs: { "/slow": makeDerivation({ name: "slow", env: { COUNTER: ${JSON.stringify(counter)} }, builder: 'echo $$ >> "$COUNTER"; sleep 1; mkdir -p $out && echo done > $out/f' }) } };`,
    ),
  });
  const [r1, r2] = await Promise.all([0, 1].map(() => finished(spawnMakes(dir, ["run", "--reporter", "json", "/slow"]))));
  assert.equal(r1?.code, 0, shown(r1 as MakesResult));
  assert.equal(r2?.code, 0, shown(r2 as MakesResult));
  assert.deepEqual(stdoutLines(r1 as MakesResult), stdoutLines(r2 as MakesResult));
  assert.equal((await readFile(counter, "utf8")).trim().split("\n").length, 1, "the builder ran once");
  const built = [r1, r2].flatMap((r) => jsonEvents(r as MakesResult)).filter((e) => e.type === "node-built");
  assert.equal(built.length, 1, "one process built it, the other found it done");
  assert.deepEqual(await readdir(storeOf(dir).locksDir), [], "no lock left behind");
});

test("13. a build killed with SIGKILL halfway leaves no store path; the next run builds it fully", async (t) => {
  const scratch = await tempDir(t);
  const marker = join(scratch, "started");
  const hold = join(scratch, "hold");
  await writeFile(hold, "");
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      [
        `  const job = makeDerivation({`,
        `    name: "half",`,
        `    env: { MARKER: ${JSON.stringify(marker)}, HOLD: ${JSON.stringify(hold)} },`,
        `    builder: 'mkdir -p $out && echo first > $out/first && echo $$ > "$MARKER" && while [ -e "$HOLD" ]; do sleep 0.05; done && echo second > $out/second',`,
        `  });`,
        `  return { jobs: { "/half": job } };`,
      ].join("\n"),
    ),
  });
  const layout = storeOf(dir);
  const child = spawnMakes(dir, ["run", "/half"]);
  const result = finished(child);
  await waitFor("the builder to start", () => existsSync(marker));
  const builderPid = Number((await readFile(marker, "utf8")).trim());
  child.kill("SIGKILL");
  const killed = await result;
  assert.equal(killed.signal, "SIGKILL");
  // makes is gone; its builder (its own process group) would go on: stop it as a reboot would
  try {
    process.kill(-builderPid, "SIGKILL");
  } catch {
    // already gone
  }
  assert.deepEqual(await validPaths(layout), [], "nothing looks valid");
  assert.deepEqual(await metaHashes(layout), []);
  assert.deepEqual((await storeEntries(layout)).filter((e) => e.endsWith("-half")), [], "no store path for it at all");
  assert.equal(await outLinkTarget(layout, "/half"), undefined);

  await rm(hold);
  const next = await runMakes(dir, ["run", "/half"]);
  assert.equal(next.code, 0, shown(next));
  const path = stdoutLines(next)[0] ?? "";
  assert.match(next.stderr, /building \/half/);
  assert.equal(await readFile(join(path, "first"), "utf8"), "first\n");
  assert.equal(await readFile(join(path, "second"), "utf8"), "second\n");
  assert.equal((await readMeta(layout, hashOfPath(path)))?.name, "half");
  assert.equal(await outLinkTarget(layout, "/half"), path);
  const verify = await runMakes(dir, ["verify"]);
  assert.equal(verify.code, 0, shown(verify));
});
