/**
 * ../shared/cases/bad-input.md, the cases that concern the core: each gives one clear message on
 * stderr (no stack trace), exit 2 for configuration and usage errors or 1 for a failed job, and leaves
 * the store as it was. Every test runs on a store that already holds a valid output.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import type { StoreLayout } from "@makes/core";
import { jsonEvents, makeProject, makesTs, runMakes, shown, stdoutLines, tempDir, tryMountTmpfs, writeFiles, type FixtureFile, type MakesResult } from "./helpers/project.js";
import { hashOfPath, metaHashes, readMeta, storeEntries, storeOf, storeSnapshot, validPaths } from "./helpers/store.js";

const GOOD_JOB = `  const good = makeDerivation({ name: "good", builder: "mkdir -p $out && echo good > $out/file" });`;

let base: string;
let layout: StoreLayout;
let goodPath: string;

before(async () => {
  base = await tempDir(undefined, "makes-bad-input-");
  await writeFiles(base, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good, "/good-too": good } };`) });
  const r = await runMakes(base, ["run", "/good"]);
  assert.equal(r.code, 0, shown(r));
  layout = storeOf(base);
  goodPath = stdoutLines(r)[0] ?? "";
  assert.ok(existsSync(goodPath));
});

after(() => rm(base, { recursive: true, force: true }));

/** No stack trace, no internal error, exactly one error line. */
function assertCleanError(r: MakesResult, code: 1 | 2): void {
  assert.equal(r.code, code, shown(r));
  assert.doesNotMatch(r.stderr, /^\s+at .*:\d+:\d+\)?$/m, `a stack trace was shown:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error/);
  // one message: a usage or configuration error, or the failed job
  const messages = code === 2 || !/^failed /m.test(r.stderr) ? r.stderr.match(/error:/g) : r.stderr.match(/^failed /gm);
  assert.equal(messages?.length, 1, `one error message:\n${r.stderr}`);
}

/** Runs makes on a project with this makes.ts against the shared store; asserts the store did not change. */
async function runBroken(t: { after: (fn: () => unknown) => void }, files: Record<string, FixtureFile>, args: string[]): Promise<MakesResult> {
  const dir = await makeProject(t, files);
  const before = await storeSnapshot(layout);
  const r = await runMakes(dir, ["--store", layout.root, ...args]);
  assert.deepEqual(await storeSnapshot(layout), before, `the store changed:\n${shown(r)}`);
  assert.equal(existsSync(join(dir, ".makes")), false, "no store was created in the broken project");
  return r;
}

test("1. no makes.ts here or above: says where it looked and how to start one", async (t) => {
  assert.equal(existsSync("/tmp/makes.ts") || existsSync("/makes.ts"), false, "precondition: no makes.ts above the temp dir");
  const dir = await makeProject(t, { "src/readme.txt": "no config here" });
  const r = await runBroken(t, {}, ["-C", join(dir, "src"), "run", "/good"]);
  assertCleanError(r, 2);
  assert.ok(r.stderr.includes(join(dir, "src")), `names the directory:\n${r.stderr}`);
  assert.match(r.stderr, /No makes\.ts/);
  assert.match(r.stderr, /create one/);
  assert.equal(r.stdout, "");
});

test("1b. makes.ts is found in a directory above the current one (and with -C)", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(`  return { jobs: { "/up": makeScript({ name: "up", entrypoint: "pwd" }) } };`),
    "deep/er/file.txt": "x",
  });
  const r = await runMakes(join(dir, "deep", "er"), ["list"]);
  assert.equal(r.code, 0, shown(r));
  assert.match(r.stdout, /^\/up\s+script$/m);
  const c = await runMakes(layout.root, ["-C", join(dir, "deep"), "list"]);
  assert.equal(c.code, 0, shown(c));
  assert.match(c.stdout, /^\/up\s+script$/m);
  // The project reached through a symlinked directory, with -C and with --config.
  const link = join(await tempDir(t), "link");
  await symlink(dir, link);
  for (const args of [["-C", link, "list"], ["--config", join(link, "makes.ts"), "list"]]) {
    const s = await runMakes(layout.root, args);
    assert.equal(s.code, 0, shown(s));
    assert.match(s.stdout, /^\/up\s+script$/m);
  }
});

test("1c. -C a directory that does not exist (or a file): says so, not that no makes.ts is there", async (t) => {
  const dir = await makeProject(t, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good } };`) });
  const missing = join(dir, "no-such-dir");
  const r = await runMakes(dir, ["-C", missing, "run", "/good"]);
  assertCleanError(r, 2);
  assert.match(r.stderr, new RegExp(`-C ${missing}: the directory does not exist`), shown(r));
  assert.doesNotMatch(r.stderr, /No makes\.ts/);
  const file = await runMakes(dir, ["-C", join(dir, "makes.ts"), "list"]);
  assertCleanError(file, 2);
  assert.match(file.stderr, /makes\.ts: not a directory/, shown(file));
  assert.equal(existsSync(join(dir, ".makes")), false, "nothing was built in the project above");
});

test("2. a syntax error: file:line:col and the offending line", async (t) => {
  const r = await runBroken(t, { "makes.ts": `export default () => ({\n  jobs: {\n    "/a": 1 +* 2,\n  },\n});\n` }, ["run", "/a"]);
  assertCleanError(r, 2);
  assert.match(r.stderr, /makes\.ts:3:\d+: /);
  assert.ok(r.stderr.includes(`"/a": 1 +* 2,`), `shows the line:\n${r.stderr}`);
});

test("3. makes.ts throws while evaluating: the message and the makes.ts line, source-mapped", async (t) => {
  const r = await runBroken(
    t,
    {
      "makes.ts": makesTs(`  const port: number = 80;\n  // a comment\n  if (port > 0) throw new Error("cannot decide on jobs");\n  return { jobs: {} };`),
    },
    ["run", "/a"],
  );
  assertCleanError(r, 2);
  assert.match(r.stderr, /cannot decide on jobs/);
  // line 1 is the import, 3 the function head: the throw is on line 6 of makes.ts
  assert.match(r.stderr, /makes\.ts:6:\d+/, r.stderr);
  assert.doesNotMatch(r.stderr, /\.mjs/, "never the bundle");
});

test("4. the default export is neither a function nor an object with jobs", async (t) => {
  for (const source of [`export default 42;\n`, `export default { job: {} };\n`, `export const jobs = {};\n`]) {
    const r = await runBroken(t, { "makes.ts": source }, ["list"]);
    assertCleanError(r, 2);
    assert.match(r.stderr, /makes\.ts: the default export must be a function of the builders returning \{ jobs/, `${source}\n${r.stderr}`);
  }
});

test("4b. makes.ts that calls process.exit: a configuration error naming the line, not a silent success", async (t) => {
  for (const source of [makesTs(`  process.exit(0);\n  return { jobs: {} };`), `process.exit(0);\nexport default { jobs: {} };\n`]) {
    const r = await runBroken(t, { "makes.ts": source }, ["run", "/x"]);
    assertCleanError(r, 2);
    assert.match(r.stderr, /makes\.ts:\d+:\d+.*process\.exit\(0\) was called/, `${source}\n${r.stderr}`);
  }
});

test("5. a job named myJob: says to rename it to /myJob", async (t) => {
  const r = await runBroken(t, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { myJob: good } };`) }, ["list"]);
  assertCleanError(r, 2);
  assert.match(r.stderr, /"myJob"/);
  assert.match(r.stderr, /rename it to "\/myJob"/);
});

test("5b. job names with a . or .. segment, or too long for a file name, are refused before anything is built", async (t) => {
  for (const name of ["/.", "/..", "/a/../b", "/a/./b", "/a/.."]) {
    const r = await runBroken(t, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { ${JSON.stringify(name)}: good } };`) }, ["run", name]);
    assertCleanError(r, 2);
    assert.match(r.stderr, /is not a valid job name/, name);
  }
  for (const name of [`/${"x".repeat(300)}`, `/${"x".repeat(150)}/${"y".repeat(60)}`]) {
    const r = await runBroken(t, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { ${JSON.stringify(name)}: good } };`) }, ["run", name]);
    assertCleanError(r, 2);
    assert.match(r.stderr, /is too long \(\d+ characters as a file name; at most 200\)/, name);
  }
  const ok = await runBroken(t, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/.hidden/..x/a.b": good } };`) }, ["list"]);
  assert.equal(ok.code, 0, ok.stderr);
});

test("6. makes run /nope: lists the closest job names", async (t) => {
  const files = { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good, "/goods": good, "/nose": good, "/far/away/thing": good } };`) };
  const r = await runBroken(t, files, ["run", "/nope"]);
  assertCleanError(r, 2);
  assert.match(r.stderr, /No job named "\/nope"/);
  assert.match(r.stderr, /closest: \/nose/);
  assert.equal(r.stdout, "");
});

test("7. a cycle through lazily referenced derivations names the cycle", async (t) => {
  const r = await runBroken(
    t,
    {
      "makes.ts": makesTs(
        [
          `  const a: any = makeDerivation({ name: "alpha", env: { B: () => b }, builder: "mkdir $out" });`,
          `  const b: any = makeDerivation({ name: "beta", env: { A: a }, builder: "mkdir $out" });`,
          `  return { jobs: { "/alpha": a, "/beta": b } };`,
        ].join("\n"),
      ),
    },
    ["run", "/alpha"],
  );
  assertCleanError(r, 2);
  assert.match(r.stderr, /cycle/);
  assert.match(r.stderr, /\/alpha → \/beta → \/alpha/);
});

test("8. a builder that exits 3: job name, exit code, the last 20 lines of its log, the log's path", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      `${GOOD_JOB}\n  return { jobs: { "/good": good, "/fails": makeDerivation({ name: "fails", builder: 'for i in $(seq 1 30); do echo "log line $i"; done; exit 3' }) } };`,
    ),
  });
  const before = await storeSnapshot(layout);
  const r = await runMakes(dir, ["--store", layout.root, "run", "/fails"]);
  assertCleanError(r, 1);
  assert.match(r.stderr, /\/fails: the builder exited with code 3/);
  for (let i = 11; i <= 30; i++) assert.match(r.stderr, new RegExp(`log line ${i}\\b`), `line ${i} of the tail`);
  assert.doesNotMatch(r.stderr, /log line 10\b/, "only the last 20 lines");
  const logPath = /full log: (\S+)/.exec(r.stderr)?.[1];
  assert.ok(logPath !== undefined && existsSync(logPath), `the log path is shown and exists:\n${r.stderr}`);
  const log = await readFile(logPath, "utf8");
  assert.match(log, /log line 1\n/);
  assert.match(log, /log line 30\n/);
  assert.equal(r.stdout, "");
  assert.deepEqual(await storeSnapshot(layout), before, "no output, no metadata, no out-link for a failed build");
});

test("8b. --reporter json carries the log tail as it is; the text reporters quote it", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(`  return { jobs: { "/fails": makeDerivation({ name: "fails", builder: 'echo "  indented | piped"; echo last; exit 3' }) } };`),
  });
  const json = await runMakes(dir, ["run", "/fails", "--reporter", "json"]);
  assert.equal(json.code, 1, shown(json));
  const failed = jsonEvents(json).find((e) => e.type === "node-failed");
  assert.equal(failed?.detail, "  indented | piped\nlast", shown(json));
  assert.equal(failed?.message, "/fails: the builder exited with code 3");
  const text = await runMakes(dir, ["run", "/fails"]);
  assert.match(text.stderr, /^failed {3}\/fails: the builder exited with code 3\n {2}\| {3}indented \| piped\n {2}\| last\n {2}full log: \S+\.log$/m, shown(text));
});

test("8c. the failure line of an image job starts with the job's name, not the layer's", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": [
      'import type { MakesArgs } from "@makes/core";',
      "export default ({ makeContainerImage, makeDerivation }: MakesArgs) => ({ jobs: {",
      '  "/ififo": makeContainerImage({ layers: [makeDerivation({ name: "fifo", builder: "mkdir -p $out/run; mkfifo $out/run/f" })] }),',
      '  "/islf": makeContainerImage({ layers: [makeDerivation({ name: "sl", builder: "echo not a directory > $out" })] }),',
      "} });",
      "",
    ].join("\n"),
  });
  for (const job of ["/ififo", "/islf"]) {
    const r = await runMakes(dir, ["run", job]);
    assertCleanError(r, 1);
    assert.match(r.stderr, new RegExp(`^failed {3}${job}: \\S`, "m"), shown(r));
  }
});

test("9. a builder that exits 0 without creating $out", async (t) => {
  const dir = await makeProject(t, { "makes.ts": makesTs(`  return { jobs: { "/empty": makeDerivation({ name: "empty", builder: "echo did nothing" }) } };`) });
  const before = await storeSnapshot(layout);
  const r = await runMakes(dir, ["--store", layout.root, "run", "/empty"]);
  assertCleanError(r, 1);
  assert.match(r.stderr, /\/empty: the builder finished without creating \$out/);
  assert.match(r.stderr, /^  full log: \S+\.log$/m, "says where the log is");
  assert.deepEqual(await storeSnapshot(layout), before);
});

test("10. makeDerivation without name, or with a / or a space in it", async (t) => {
  const cases: Array<[string, RegExp]> = [
    [`makeDerivation({ builder: "mkdir $out" } as any)`, /`name` is required/],
    [`makeDerivation({ name: "a/b", builder: "mkdir $out" })`, /"a\/b" may only contain .*no "\/" or spaces/],
    [`makeDerivation({ name: "a b", builder: "mkdir $out" })`, /"a b" may only contain .*rename it, for example to "a-b"/],
    [`makeDerivation({ name: "n".repeat(201), builder: "mkdir $out" })`, /is 201 characters long, over the 200 a store path's name may have/],
  ];
  for (const [call, message] of cases) {
    const r = await runBroken(t, { "makes.ts": makesTs(`  return { jobs: { "/x": ${call} } };`) }, ["run", "/x"]);
    assertCleanError(r, 2);
    assert.match(r.stderr, message, `${call}\n${r.stderr}`);
    assert.match(r.stderr, /makeDerivation/);
    assert.match(r.stderr, /makes\.ts:\d+:\d+/, "points at the call in makes.ts");
  }
});

test("11. an env key that is not a shell identifier, or a reserved one", async (t) => {
  const cases: Array<[string, RegExp]> = [
    [`"MY-VAR"`, /"MY-VAR" is not a shell identifier/],
    [`"1X"`, /"1X" is not a shell identifier/],
    [`"out"`, /"out" is reserved/],
    [`PATH`, /"PATH" is reserved/],
    [`HOME`, /"HOME" is reserved/],
    [`TMPDIR`, /"TMPDIR" is reserved/],
  ];
  for (const [key, message] of cases) {
    const r = await runBroken(t, { "makes.ts": makesTs(`  return { jobs: { "/x": makeDerivation({ name: "x", env: { ${key}: "v" }, builder: "mkdir $out" }) } };`) }, ["run", "/x"]);
    assertCleanError(r, 2);
    assert.match(r.stderr, message, `${key}\n${r.stderr}`);
  }
});

test("14. an unknown flag, or -j 0: a usage error", async (t) => {
  for (const args of [["run", "--frobnicate", "/good"], ["run", "-j", "0", "/good"], ["run", "-j", "-3", "/good"], ["run", "-j", "two", "/good"], ["run"], ["explode"]]) {
    const r = await runBroken(t, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good } };`) }, args);
    assertCleanError(r, 2);
    assert.equal(r.stdout, "", `${args.join(" ")}: nothing on stdout`);
    if (args.includes("--frobnicate")) assert.match(r.stderr, /frobnicate/);
    if (args.includes("-j")) assert.match(r.stderr, /-j/);
  }
  // a bad flag is reported before makes.ts is even loaded
  const broken = await runBroken(t, { "makes.ts": "export default {\n" }, ["run", "-j", "0", "/good"]);
  assertCleanError(broken, 2);
  assert.match(broken.stderr, /-j\/--jobs must be a positive whole number/);
});

test("14b. a flag without its value, or a bad choice: one line naming the flag and what it takes, exit 2", async (t) => {
  const files = { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good } };`) };
  const cases: Array<[string[], RegExp]> = [
    [["run", "/good", "--store"], /--store needs a value: a directory/],
    [["run", "/good", "-C"], /-C needs a value: a directory/],
    [["run", "/good", "--config"], /--config needs a value: a file/],
    [["run", "/good", "-j"], /-j needs a value: a number/],
    [["run", "-j"], /-j needs a value: a number/], // no job after it either: the flag is what to name
    [["run", "--store"], /--store needs a value: a directory/],
    [["gc", "--keep-since"], /--keep-since needs a value: a duration such as 30m/],
    [["run", "/good", "--reporter"], /--reporter needs a value: auto, terminal, plain or json/],
    [["graph", "/good", "--format"], /--format needs a value: dot, mermaid or json/],
    [["export", "/good", "--format"], /--format needs a value: oci-archive or docker-archive/],
    [["run", "/good", "--reporter", "bogus"], /--reporter must be one of "auto", "plain", "json", "terminal" \(got "bogus"\)/],
  ];
  for (const [args, message] of cases) {
    const r = await runBroken(t, files, args);
    assertCleanError(r, 2);
    assert.match(r.stderr, message, shown(r));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one line:\n${r.stderr}`);
    assert.equal(r.stdout, "");
  }
});

test("14c. an empty --store, -C or --config is a usage error, not the current directory; an empty MAKES_STORE is unset", async (t) => {
  const dir = await makeProject(t, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good } };`) });
  for (const flag of ["--store", "-C", "--config"]) {
    const r = await runMakes(dir, ["run", "/good", flag, ""]);
    assertCleanError(r, 2);
    assert.match(r.stderr, new RegExp(`${flag} was given an empty value; it takes a (directory|file)`), shown(r));
    assert.deepEqual(await readdir(dir), ["makes.ts"], "no store in the project directory, nor its parts scattered in it");
  }
  const unset = await runMakes(dir, ["run", "/good"], { env: { MAKES_STORE: "" } });
  assert.equal(unset.code, 0, shown(unset));
  assert.deepEqual(await readdir(dir), [".makes", "makes.ts"]);
});

test("14e. -j that is not a whole number ≥ 1 names the value as given, for every command", async (t) => {
  const files = { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good } };`) };
  const cases: Array<[string[], string]> = [
    [["run", "/good", "-j", "abc"], "abc"],
    [["run", "/good", "-j", ""], ""],
    [["run", "/good", "-j", "1.5"], "1.5"],
    [["run", "/good", "-j", "0"], "0"],
    [["run", "/good", "--jobs=0x10"], "0x10"],
    [["run", "--watch", "/good", "-j", "abc"], "abc"],
    [["list", "-j", "abc"], "abc"],
  ];
  for (const [args, given] of cases) {
    const r = await runBroken(t, files, args);
    assertCleanError(r, 2);
    const quoted = JSON.stringify(given).replace(/[.]/g, "\\.");
    assert.match(r.stderr, new RegExp(`^makes: error: -j/--jobs must be a positive whole number of parallel builds \\(≥ 1; got ${quoted}\\); for example -j 4$`, "m"), shown(r));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one line:\n${r.stderr}`);
  }
});

test("14f. a value given to a switch (--keep-going=maybe) is a usage error naming it; =true and =false are accepted", async (t) => {
  const files = { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good } };`) };
  const cases: Array<[string[], string]> = [
    [["run", "/good", "--keep-going=maybe"], "--keep-going"],
    [["run", "/good", "--dry-run=yes"], "--dry-run"],
    [["run", "/good", "-L=1"], "-L"],
    [["run", "/good", "--print-logs=1"], "--print-logs"],
    [["run", "/good", "--watch=maybe"], "--watch"],
    [["list", "--json=x"], "--json"],
    [["why", "/good", "--all=1"], "--all"],
    [["verify", "--repair=2"], "--repair"],
  ];
  for (const [args, flag] of cases) {
    const r = await runBroken(t, files, args);
    assertCleanError(r, 2);
    const arg = args.find((a) => a.startsWith(`${flag}=`)) ?? "";
    assert.match(r.stderr, new RegExp(`^makes: error: ${flag} takes no value \\(got "${arg}"\\); write ${flag} alone to turn it on, or leave it out$`, "m"), shown(r));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one line:\n${r.stderr}`);
  }
  const dir = await makeProject(t, files);
  const on = await runMakes(dir, ["run", "/good", "--keep-going=true", "--dry-run=false"]);
  assert.equal(on.code, 0, shown(on));
  assert.equal(stdoutLines(on).length, 1, "--dry-run=false builds");
});

test("14g. --watch with --dry-run is a usage error, before anything is built or watched", async (t) => {
  const files = { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good } };`) };
  const r = await runBroken(t, files, ["run", "--watch", "--dry-run", "/good"]);
  assertCleanError(r, 2);
  assert.match(r.stderr, /^makes: error: --watch and --dry-run cannot be combined: .*; drop one of them$/m, shown(r));
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one line:\n${r.stderr}`);
  const json = await runBroken(t, files, ["run", "--watch", "--dry-run", "/good", "--reporter", "json"]);
  assert.equal(json.code, 2, shown(json));
  assert.deepEqual(jsonEvents(json).map((e) => [e.type, e.message]), [["error", r.stderr.trim().replace(/^makes: error: /, "")]]);
});

test("14d. a flag given twice takes its last value", async (t) => {
  const dir = await makeProject(t, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good, "/also": good } };`) });
  const second = join(dir, "second-store");
  const r = await runMakes(dir, ["run", "--store", join(dir, "first-store"), "--store", second, "--reporter", "plain", "--reporter", "json", "/good", "/also"]);
  assert.equal(r.code, 0, shown(r));
  assert.equal(stdoutLines(r).length, 2, "both jobs");
  assert.ok(stdoutLines(r).every((p) => p.startsWith(join(second, "store"))), shown(r));
  assert.equal(existsSync(join(dir, "first-store")), false);
  assert.ok(jsonEvents(r).length > 0);
});

test("15. the store on a nearly full disk: no space left, no half-written path, the earlier output still verifies", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      [
        `  const small = makeDerivation({ name: "small", builder: "mkdir -p $out && echo small > $out/file" });`,
        `  const big = makeDerivation({ name: "big", builder: "mkdir -p $out && head -c 10000000 /dev/zero > $out/big" });`,
        `  return { jobs: { "/small": small, "/big": big } };`,
      ].join("\n"),
    ),
  });
  const mountPoint = join(dir, "store-on-tmpfs");
  await mkdir(mountPoint);
  if (!tryMountTmpfs(t, mountPoint, "size=2m", "the full-disk case")) return;
  try {
    await fullDisk(dir, mountPoint);
  } finally {
    execFileSync("umount", [mountPoint]); // before the project directory is removed
  }
});

async function fullDisk(dir: string, mountPoint: string): Promise<void> {
  const store = storeOf(mountPoint, { root: true });
  const small = await runMakes(dir, ["--store", mountPoint, "run", "/small"]);
  assert.equal(small.code, 0, shown(small));
  const smallPath = stdoutLines(small)[0] ?? "";

  const r = await runMakes(dir, ["--store", mountPoint, "run", "/big"]);
  assert.notEqual(r.code, 0, shown(r));
  assert.match(r.stderr, /no space left/i, shown(r));
  assert.doesNotMatch(r.stderr, /internal error|^\s+at /m, shown(r));
  assert.equal(r.stdout, "");
  assert.deepEqual(await validPaths(store), [smallPath], "only the earlier output is valid");
  assert.deepEqual(await storeEntries(store), [smallPath.split("/").pop()], "no half-written path for the big job");
  assert.deepEqual(await readdir(store.tmpDir), [], "the build directory was removed");
  assert.deepEqual(await metaHashes(store), [hashOfPath(smallPath)]);
  assert.equal((await readMeta(store, hashOfPath(smallPath)))?.name, "small");

  const verify = await runMakes(dir, ["--store", mountPoint, "verify"]);
  assert.equal(verify.code, 0, shown(verify));
  const again = await runMakes(dir, ["--store", mountPoint, "run", "/small"]);
  assert.equal(again.code, 0, shown(again));
  assert.deepEqual(stdoutLines(again), [smallPath]);
  assert.match(again.stderr, /cached\s+\/small/);
}

test("15b. a store on a read-only file system: says so and how to use another store, exit 1, no stack", async (t) => {
  const dir = await makeProject(t, { "makes.ts": makesTs(`  return { jobs: { "/a": makeDerivation({ name: "a", builder: "echo a > $out" }) } };`) });
  // outside the project: a store inside it would also hold the loader's bundle of makes.ts
  const mountPoint = await tempDir(t, "makes-ro-store-");
  if (!tryMountTmpfs(t, mountPoint, "size=1m", "the read-only case")) return;
  try {
    const store = join(mountPoint, "store");
    const built = await runMakes(dir, ["--store", store, "run", "/a"]);
    assert.equal(built.code, 0, shown(built));
    execFileSync("mount", ["-o", "remount,ro", mountPoint]);
    await writeFiles(dir, { "makes.ts": makesTs(`  return { jobs: { "/a": makeDerivation({ name: "a", builder: "echo changed > $out" }) } };`) });
    // an existing store (the job fails taking its lock), and one that does not exist yet
    for (const root of [store, join(mountPoint, "new", "store")]) {
      const r = await runMakes(dir, ["--store", root, "run", "/a"]);
      assert.equal(r.code, 1, shown(r));
      assert.doesNotMatch(r.stderr, /internal error|^\s+at |Permission denied/m, shown(r));
      assert.match(r.stderr, /read-only file system .*--store DIR/, shown(r));
      if (root === store) assert.match(r.stderr, /^failed {3}\/a: /m, shown(r));
    }
  } finally {
    execFileSync("umount", [mountPoint]);
  }
});

test("a store that is a file (--store FILE, or a file named .makes): a clear message, not an internal error", async (t) => {
  const dir = await makeProject(t, { "makes.ts": makesTs(`${GOOD_JOB}\n  return { jobs: { "/good": good } };`), ".makes": "a file, not a store\n" });
  const r = await runMakes(dir, ["run", "/good"]);
  assertCleanError(r, 1);
  assert.match(r.stderr, /the store must be a directory/);
  assert.ok(r.stderr.includes(join(dir, ".makes")), r.stderr);
  assert.equal(await readFile(join(dir, ".makes"), "utf8"), "a file, not a store\n", "the file is left alone");
  const other = await runMakes(dir, ["run", "--store", join(dir, "makes.ts"), "/good"]);
  assertCleanError(other, 1);
  assert.match(other.stderr, /the store must be a directory/);
});

test("an env value over 128 KiB (Linux's MAX_ARG_STRLEN): a configuration error naming the variable, its size and the limit", async (t) => {
  for (const builder of ["makeDerivation", "makeScript"]) {
    const call =
      builder === "makeDerivation"
        ? `makeDerivation({ name: "x", env: { BIG: "a".repeat(200000) }, builder: "mkdir $out" })`
        : `makeScript({ name: "x", env: { BIG: "a".repeat(200000) }, entrypoint: "true" })`;
    const r = await runBroken(t, { "makes.ts": makesTs(`  return { jobs: { "/x": ${call} } };`) }, ["run", "/x"]);
    assertCleanError(r, 2);
    assert.match(r.stderr, new RegExp(`${builder} "x": env\\.BIG is 200000 bytes long, over the 131072 bytes Linux allows one environment variable`), r.stderr);
    assert.match(r.stderr, /write the value to a file .* and pass its path instead/);
  }
  // a thunk is called when the graph is walked: still a configuration error, before anything is built
  const lazy = `makeDerivation({ name: "x", env: { BIG: () => "a".repeat(200000) }, builder: "mkdir $out" })`;
  const r = await runBroken(t, { "makes.ts": makesTs(`  return { jobs: { "/x": ${lazy} } };`) }, ["run", "/x"]);
  assertCleanError(r, 2);
  assert.match(r.stderr, /env\.BIG is 200000 bytes long/);
});

test("a builder of 300 KB builds (it is passed to bash as a file, not as an argument)", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(`  return { jobs: { "/big": makeDerivation({ name: "big", builder: ": ${"x".repeat(300_000)}\\nmkdir $out && echo ok > $out/file" }) } };`),
  });
  const r = await runMakes(dir, ["run", "/big"]);
  assert.equal(r.code, 0, shown(r));
  assert.equal(await readFile(join(stdoutLines(r)[0] ?? "", "file"), "utf8"), "ok\n");
});

test("an environment too large in total: a one-line failure of the job (exit 1), not an internal error", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      `  const env = Object.fromEntries(Array.from({ length: 200 }, (_, i) => ["V" + i, "a".repeat(100000)]));\n  return { jobs: { "/huge": makeDerivation({ name: "huge", env, builder: "mkdir $out" }) } };`,
    ),
  });
  const before = await storeSnapshot(layout);
  const r = await runMakes(dir, ["--store", layout.root, "run", "/huge"]);
  assertCleanError(r, 1);
  assert.match(r.stderr, /\/huge: cannot start the builder: its environment is too large/);
  assert.deepEqual(await storeSnapshot(layout), before);
});

test("an image architecture or os that is not Go's name (x86_64, aarch64, macos): exit 2 with the name to use", async (t) => {
  const cases: Array<[string, RegExp]> = [
    [`architecture: "x86_64"`, /architecture must be a Go GOARCH name \(amd64, .*\), got "x86_64"; use "amd64"/],
    [`architecture: "aarch64"`, /got "aarch64"; use "arm64"/],
    [`os: "macos"`, /os must be a Go GOOS name \(linux, .*\), got "macos"; use "darwin"/],
  ];
  for (const [option, message] of cases) {
    const source = `import type { MakesArgs } from "@makes/core";\n\nexport default ({ makeContainerImage }: MakesArgs) => ({ jobs: { "/img": makeContainerImage({ ${option} }) } });\n`;
    const r = await runBroken(t, { "makes.ts": source }, ["run", "/img"]);
    assertCleanError(r, 2);
    assert.match(r.stderr, message, `${option}\n${r.stderr}`);
  }
});

test("an unknown option key (inputs.debian.package keepdocs, searchPaths.lib): exit 2 naming it, with the closest valid key", async (t) => {
  const cases: Array<[string, RegExp]> = [
    [`inputs.debian.package("coreutils", { keepdocs: true } as any)`, /inputs\.debian\.package\("coreutils"\): unknown option "keepdocs" \(did you mean "keepDocs"\?\); the options are keepDocs, exclude/],
    [`makeDerivation({ name: "x", builder: "mkdir $out", searchPaths: { lib: [] } } as any)`, /makeDerivation "x": searchPaths: unknown key "lib"; the only key is bin/],
    [`makeScript({ name: "x", entrypoint: "true", searchPaths: { lib: [] } } as any)`, /makeScript "x": searchPaths: unknown key "lib"; the only key is bin/],
  ];
  for (const [call, message] of cases) {
    const source = `import type { MakesArgs } from "@makes/core";\n\nexport default ({ inputs, makeDerivation, makeScript }: MakesArgs) => ({ jobs: { "/x": ${call} } });\n`;
    const r = await runBroken(t, { "makes.ts": source }, ["run", "/x"]);
    assertCleanError(r, 2);
    assert.match(r.stderr, message, `${call}\n${r.stderr}`);
    assert.match(r.stderr, /makes\.ts:\d+:\d+/, "points at the call in makes.ts");
  }
});

test("exclude naming a package that is not a dependency: exit 2, one line, nothing built", { skip: !existsSync("/var/lib/dpkg/info/coreutils.list") && "coreutils is not installed with dpkg here" }, async (t) => {
  const source = `import type { MakesArgs } from "@makes/core";\n\nexport default ({ inputs, makeContainerImage }: MakesArgs) => ({ jobs: { "/x": makeContainerImage({ layers: [inputs.debian.package("coreutils", { exclude: ["libc"] })] }) } });\n`;
  const r = await runBroken(t, { "makes.ts": source }, ["run", "/x"]);
  assertCleanError(r, 2);
  assert.match(r.stderr, /inputs\.debian\.coreutils: exclude: "libc" is not a dependency of "coreutils" \(did you mean "libc6"\?\) \(its dependencies are .*libc6.*\); fix the name or remove it from exclude/);
});

test("misleading messages fixed: a non-string label, an empty User, projectPath of a symlink", async (t) => {
  const image = (config: string) =>
    `import type { MakesArgs } from "@makes/core";\n\nexport default ({ makeContainerImage }: MakesArgs) => ({ jobs: { "/img": makeContainerImage({ config: ${config} } as any) } });\n`;
  const labels = await runBroken(t, { "makes.ts": image(`{ Labels: { a: 1 } }`) }, ["run", "/img"]);
  assertCleanError(labels, 2);
  assert.match(labels.stderr, /config\.Labels\.a must be a string \(label values are strings; .*\), got the number 1/);
  const user = await runBroken(t, { "makes.ts": image(`{ User: "" }`) }, ["run", "/img"]);
  assertCleanError(user, 2);
  assert.match(user.stderr, /config\.User must be a non-empty string in one of the forms user, uid, user:group or uid:gid, got an empty string/);

  const files = {
    "makes.ts": makesTs(`  return { jobs: { "/x": makeDerivation({ name: "x", env: { src: projectPath("/x") }, builder: "cp -r $src $out" }) } };`),
    "real/file.txt": "content\n",
    x: { symlink: "real" },
  };
  const r = await runBroken(t, files, ["run", "/x"]);
  assertCleanError(r, 2);
  assert.match(r.stderr, /projectPath\("\/x"\): \S+ is a symlink \(to "real"\), not a directory; .*: name the real directory instead: projectPath\("\/real"\)/);
});
