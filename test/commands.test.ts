/** The command line as users script it: list, graph, gc, --dry-run, -j, --keep-going, reporters, log, scripts, stdout. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { finished, jsonEvents, makeProject, makesTs, REPO, runMakes, shown, stdoutLines, tempDir, writeFiles } from "./helpers/project.js";
import { hashOfPath, outLinkTarget, storeEntries, storeOf, validPaths } from "./helpers/store.js";

/** A diamond (/top needs /left and /right, both need base) plus an independent script. */
const DIAMOND = makesTs(
  [
    `  const base = makeDerivation({ name: "base", builder: "mkdir -p $out && echo base > $out/v && echo building-base" });`,
    `  const left = makeDerivation({ name: "left", env: { base }, builder: "mkdir -p $out && cat $base/v > $out/v && echo left >> $out/v" });`,
    `  const right = makeDerivation({ name: "right", builder: \`mkdir -p $out && cat \${base}/v > $out/v && echo right >> $out/v\` });`,
    `  const top = makeDerivation({ name: "top", env: { left, right }, builder: "mkdir -p $out && cat $left/v $right/v > $out/v" });`,
    `  return { jobs: {`,
    `    "/base": base, "/left": left, "/right": right, "/top": top,`,
    `    "/hello": makeScript({ name: "hello", entrypoint: \`echo "hello $*"; cat \${base}/v\` }),`,
    `  } };`,
  ].join("\n"),
);

test("makes list and list --json: every job with its kind, sorted", async (t) => {
  const dir = await makeProject(t, { "makes.ts": DIAMOND, "makes/tools/fmt/main.ts": `export default ({ makeScript }: any) => makeScript({ name: "fmt", entrypoint: "true" });\n` });
  const r = await runMakes(dir, ["list", "--json"]);
  assert.equal(r.code, 0, shown(r));
  assert.deepEqual(JSON.parse(r.stdout), [
    { job: "/base", kind: "derivation", name: "base" },
    { job: "/hello", kind: "script", name: "hello" },
    { job: "/left", kind: "derivation", name: "left" },
    { job: "/right", kind: "derivation", name: "right" },
    { job: "/tools/fmt", kind: "script", name: "fmt" },
    { job: "/top", kind: "derivation", name: "top" },
  ]);
  const plain = await runMakes(dir, ["list"]);
  assert.deepEqual(stdoutLines(plain).map((l) => l.split(/\s+/)), [
    ["/base", "derivation"],
    ["/hello", "script"],
    ["/left", "derivation"],
    ["/right", "derivation"],
    ["/tools/fmt", "script"],
    ["/top", "derivation"],
  ]);
  assert.equal(existsSync(join(dir, ".makes", "store")), false, "listing builds nothing");
});

test("makes graph --format json|dot|mermaid: the closure with hashes, edges and built state", async (t) => {
  const dir = await makeProject(t, { "makes.ts": DIAMOND });
  const json = async (): Promise<{ jobs: string[]; nodes: Array<{ id: string; label: string; kind: string; hash: string; built: boolean; path: string }>; edges: Array<{ from: string; to: string }> }> => {
    const r = await runMakes(dir, ["graph", "--format", "json", "/top"]);
    assert.equal(r.code, 0, shown(r));
    return JSON.parse(r.stdout);
  };
  const before = await json();
  assert.deepEqual(before.jobs, ["/top"]);
  assert.deepEqual(before.nodes.map((n) => n.label).sort(), ["/base", "/left", "/right", "/top"]);
  assert.ok(before.nodes.every((n) => !n.built && /^[0-9a-z]{32}$/.test(n.hash) && n.path.endsWith(`${n.hash}-${n.label.slice(1)}`)));
  const id = (label: string): string => before.nodes.find((n) => n.label === label)?.id ?? "?";
  const edges = before.edges.map((e) => `${e.from}->${e.to}`).sort();
  assert.deepEqual(edges, [`${id("/left")}->${id("/base")}`, `${id("/right")}->${id("/base")}`, `${id("/top")}->${id("/left")}`, `${id("/top")}->${id("/right")}`].sort());

  const built = await runMakes(dir, ["run", "/left"]);
  assert.equal(built.code, 0, shown(built));
  const after = await json();
  assert.deepEqual(after.nodes.filter((n) => n.built).map((n) => n.label).sort(), ["/base", "/left"]);
  assert.deepEqual(after.nodes.map((n) => n.hash), before.nodes.map((n) => n.hash));

  const dot = await runMakes(dir, ["graph", "/top"]);
  assert.equal(dot.code, 0, shown(dot));
  assert.match(dot.stdout, /^digraph makes \{/);
  assert.equal(dot.stdout.match(/ -> /g)?.length, 4);
  assert.match(dot.stdout, /\/top\\n/);
  const mermaid = await runMakes(dir, ["graph", "--format", "mermaid", "/top"]);
  assert.match(mermaid.stdout, /^graph LR$/m);
  assert.equal(mermaid.stdout.match(/ --> /g)?.length, 4);
  const bad = await runMakes(dir, ["graph", "--format", "svg", "/top"]);
  assert.equal(bad.code, 2);
});

test("stdout carries only output paths, one per line; builder output goes to the log (or stderr with -L)", async (t) => {
  const dir = await makeProject(t, { "makes.ts": DIAMOND });
  const r = await runMakes(dir, ["run", "/top", "/left"]);
  assert.equal(r.code, 0, shown(r));
  const lines = stdoutLines(r);
  assert.equal(lines.length, 2, shown(r));
  const layout = storeOf(dir);
  assert.deepEqual(lines, [await outLinkTarget(layout, "/top"), await outLinkTarget(layout, "/left")]);
  for (const l of lines) assert.ok(l.startsWith(`${layout.storeDir}/`) && existsSync(l), l);
  assert.doesNotMatch(r.stdout, /building-base|built|cached/);
  assert.equal(await readFile(join(lines[0] ?? "", "v"), "utf8"), "base\nleft\nbase\nright\n");

  const logs = await runMakes(dir, ["run", "-L", "/base", "/right"]);
  assert.equal(logs.code, 0);
  assert.equal(stdoutLines(logs).length, 2);
  const fresh = await makeProject(t, { "makes.ts": DIAMOND });
  const printed = await runMakes(fresh, ["run", "-L", "/base"]);
  assert.match(printed.stderr, /building-base/, "-L shows the log on stderr");
  assert.doesNotMatch(printed.stdout, /building-base/);
  assert.equal(stdoutLines(printed).length, 1);
  // $(makes run /x) works
  const viaShell = await runMakes(dir, ["run", "/base"]);
  assert.equal(viaShell.stdout, `${await outLinkTarget(layout, "/base")}\n`);
});

test("--dry-run builds nothing and says what would be built; afterwards it reports what is cached", async (t) => {
  const dir = await makeProject(t, { "makes.ts": DIAMOND });
  const dry = await runMakes(dir, ["run", "--dry-run", "/top"]);
  assert.equal(dry.code, 0, shown(dry));
  assert.equal(dry.stdout, "");
  for (const job of ["/base", "/left", "/right", "/top"]) assert.match(dry.stderr, new RegExp(`would build ${job} → \\S+/store/[0-9a-z]{32}-${job.slice(1)}`));
  assert.match(dry.stderr, /^makes: dry run: 4 would be built, 0 cached in \S+$/m, "the summary does not read as a failure");
  assert.doesNotMatch(dry.stderr, /not built|failed/);
  const layout = storeOf(dir);
  assert.deepEqual(await storeEntries(layout), []);
  assert.equal(await outLinkTarget(layout, "/top"), undefined);

  await runMakes(dir, ["run", "/left"]);
  const partly = await runMakes(dir, ["run", "--dry-run", "/top"]);
  assert.equal(partly.code, 0, shown(partly));
  assert.match(partly.stderr, /cached\s+\/base/);
  assert.match(partly.stderr, /cached\s+\/left/);
  assert.match(partly.stderr, /would build \/right/);
  assert.match(partly.stderr, /would build \/top/);
  assert.match(partly.stderr, /^makes: dry run: 2 would be built, 2 cached in /m);
  assert.equal((await validPaths(layout)).length, 2, "still only what was built before");
  const script = await runMakes(dir, ["run", "--dry-run", "/hello", "--", "x"]);
  assert.equal(script.code, 0, shown(script));
  assert.doesNotMatch(script.stdout, /hello x/, "a dry run runs no script");
});

test("-j 1 builds one node at a time, dependencies first; -j 2 runs independent builds at once", async (t) => {
  const dir = await makeProject(t, { "makes.ts": DIAMOND });
  const r = await runMakes(dir, ["run", "-j", "1", "--reporter", "json", "/top"]);
  assert.equal(r.code, 0, shown(r));
  const seq = jsonEvents(r)
    .filter((e) => e.type === "node-started" || e.type === "node-built")
    .map((e) => `${e.type === "node-started" ? "start" : "end"} ${(e.node as { label: string }).label}`);
  assert.equal(seq.length, 8);
  for (let i = 0; i < seq.length; i += 2) {
    assert.equal(seq[i + 1], seq[i]?.replace("start", "end"), `one at a time: ${seq.join(", ")}`);
  }
  const order = seq.filter((s) => s.startsWith("start")).map((s) => s.slice(6));
  assert.equal(order[0], "/base");
  assert.equal(order[3], "/top");

  // two builders that each wait for the other: only finish when run at the same time
  const rendezvous = await tempDir(t);
  const par = await makeProject(t, {
    "makes.ts": makesTs(
      [
        `  const meet = (me: string, other: string) => makeDerivation({ name: me, env: { D: ${JSON.stringify(rendezvous)}, ME: me, OTHER: other },`,
        `    builder: 'touch "$D/$ME"; for i in $(seq 1 200); do [ -e "$D/$OTHER" ] && break; sleep 0.05; done; [ -e "$D/$OTHER" ]; mkdir $out' });`,
        `  return { jobs: { "/p": meet("p", "q"), "/q": meet("q", "p") } };`,
      ].join("\n"),
    ),
  });
  const both = await runMakes(par, ["run", "-j", "2", "/p", "/q"]);
  assert.equal(both.code, 0, shown(both));
  assert.equal(stdoutLines(both).length, 2);
});

test("a failure stops the run; --keep-going builds everything that does not depend on it", async (t) => {
  const files = {
    "makes.ts": makesTs(
      [
        `  const bad = makeDerivation({ name: "bad", builder: "echo broken; exit 1" });`,
        `  const good = makeDerivation({ name: "good", builder: "mkdir $out" });`,
        `  const after = makeDerivation({ name: "after", env: { bad }, builder: "mkdir $out" });`,
        `  return { jobs: { "/bad": bad, "/good": good, "/after": after } };`,
      ].join("\n"),
    ),
  };
  const dir = await makeProject(t, files);
  const layout = storeOf(dir);
  const stop = await runMakes(dir, ["run", "-j", "1", "/bad", "/after", "/good"]);
  assert.equal(stop.code, 1, shown(stop));
  assert.equal(stop.stdout, "");
  assert.match(stop.stderr, /failed\s+\/bad: the builder exited with code 1/);
  assert.match(stop.stderr, /skipped\s+\/good: an earlier job failed/);
  assert.equal(await outLinkTarget(layout, "/good"), undefined);

  const keep = await runMakes(dir, ["run", "-j", "1", "--keep-going", "/bad", "/after", "/good"]);
  assert.equal(keep.code, 1, shown(keep));
  assert.match(keep.stderr, /skipped\s+\/after: \/bad failed/);
  const good = await outLinkTarget(layout, "/good");
  assert.ok(good !== undefined && (await validPaths(layout)).includes(good), "the independent job was built");
  assert.deepEqual(stdoutLines(keep), [good], "the path of the job that was built is printed");
  assert.deepEqual((await validPaths(layout)).map((p) => p.split("-").pop()), ["good"]);
  assert.match(keep.stderr, /1 built, 0 cached, 1 failed, 1 not built/);
});

test("a glob selects jobs; a glob that matches nothing is a usage error (exit 2)", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      `  const mk = (n: string) => makeDerivation({ name: n, builder: "mkdir $out" });\n  return { jobs: { "/packages/web/build": mk("web"), "/packages/api/build": mk("api"), "/packages/api/test": mk("apitest") } };`,
    ),
  });
  const r = await runMakes(dir, ["run", "/packages/*/build"]);
  assert.equal(r.code, 0, shown(r));
  assert.deepEqual(stdoutLines(r).map((l) => l.split("-").pop()), ["api", "web"]);
  const none = await runMakes(dir, ["run", "/nothing/*"]);
  assert.equal(none.code, 2, shown(none));
  assert.match(none.stderr, /No job matches "\/nothing\/\*"/);
  assert.equal(none.stdout, "");
});

test("--reporter json: one JSON event per line on stderr, each with a type; node events carry the hash", async (t) => {
  const dir = await makeProject(t, { "makes.ts": DIAMOND });
  await runMakes(dir, ["run", "/base"]);
  const r = await runMakes(dir, ["run", "--reporter", "json", "/left"]);
  assert.equal(r.code, 0, shown(r));
  const events = jsonEvents(r);
  assert.ok(events.every((e) => typeof e.type === "string" && typeof e.time === "number"));
  assert.equal(events[0]?.type, "run-started");
  assert.equal(events.at(-1)?.type, "run-finished");
  assert.deepEqual(
    events.filter((e) => e.type.startsWith("node-")).map((e) => [e.type, (e.node as { label: string }).label]),
    [["node-cached", "/base"], ["node-started", "/left"], ["node-built", "/left"]],
  );
  const built = events.find((e) => e.type === "node-built");
  assert.equal((built?.node as { hash: string }).hash, hashOfPath(stdoutLines(r)[0] ?? ""));
  assert.deepEqual({ ...events.at(-1), time: 0, durationMs: 0 }, { type: "run-finished", built: 1, cached: 1, failed: 0, skipped: 0, durationMs: 0, time: 0 });
  // errors too are JSON events
  const bad = await runMakes(dir, ["run", "--reporter", "json", "/nope"]);
  assert.equal(bad.code, 2, shown(bad));
  const errors = jsonEvents(bad);
  assert.deepEqual(errors.map((e) => e.type), ["error"]);
  assert.match(String(errors[0]?.message), /No job named "\/nope"/);
  await writeFile(join(dir, "makes.ts"), "export default {\n");
  const syntax = await runMakes(dir, ["run", "--reporter", "json", "/base"]);
  assert.equal(syntax.code, 2, shown(syntax));
  assert.deepEqual(jsonEvents(syntax).map((e) => e.type), ["error"]);
  assert.match(String(jsonEvents(syntax)[0]?.message), /makes\.ts:2:\d+/);
  // every command's errors, and usage errors, are JSON events with --reporter json
  for (const args of [["list"], ["graph", "/base"], ["why", "/base"], ["log", "/base"], ["run", "/base", "-j"], ["list", "--store", ""]]) {
    const other = await runMakes(dir, [...args, "--reporter", "json"]);
    assert.equal(other.code, 2, shown(other));
    assert.deepEqual(jsonEvents(other).map((e) => e.type), ["error"], `${args.join(" ")}:\n${other.stderr}`);
    assert.equal(other.stdout, "");
  }
});

test("makes log /job prints the build log of its current output, also when cached", async (t) => {
  const dir = await makeProject(t, { "makes.ts": DIAMOND });
  const before = await runMakes(dir, ["log", "/base"]);
  assert.equal(before.code, 2, shown(before));
  assert.match(before.stderr, /not built/);
  await runMakes(dir, ["run", "/top"]);
  const log = await runMakes(dir, ["log", "/base"]);
  assert.equal(log.code, 0, shown(log));
  assert.equal(log.stdout, "building-base\n");
  const again = await runMakes(dir, ["log", "/base"]);
  assert.equal(again.stdout, "building-base\n");
});

test("script jobs: makes run /script -- a b passes the args, runs in the caller's cwd with the caller's env, passes the exit code", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      [
        `  const data = makeDerivation({ name: "data", builder: "echo from-store > $out" });`,
        `  return { jobs: {`,
        `    "/show": makeScript({ name: "show", entrypoint: \`printf '%s\\\\n' "$#" "$@"; pwd; echo "\\\${CALLER_VAR:-unset}"; cat \${data}\` }),`,
        `    "/fail": makeScript({ name: "fail", entrypoint: 'echo failing; exit "\${1:-7}"' }),`,
        `  } };`,
      ].join("\n"),
    ),
  });
  const sub = join(dir, "some", "where");
  await mkdir(sub, { recursive: true });
  const r = await runMakes(sub, ["run", "/show", "--", "a b", "--flag", ""], { env: { CALLER_VAR: "from-caller" } });
  assert.equal(r.code, 0, shown(r));
  assert.equal(r.stdout, `3\na b\n--flag\n\n${sub}\nfrom-caller\nfrom-store\n`);
  const fail = await runMakes(dir, ["run", "/fail"]);
  assert.equal(fail.code, 7, shown(fail));
  assert.equal(fail.stdout, "failing\n");
  const code = await runMakes(dir, ["run", "/fail", "--", "42"]);
  assert.equal(code.code, 42);
  // the script is a store path like any other
  const built = await outLinkTarget(storeOf(dir), "/show");
  assert.ok(built !== undefined && existsSync(join(built, "bin", "show")));
});

test("makes gc removes what no out-link reaches and keeps the closure of every out-link", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      [
        `  const lib = makeDerivation({ name: "lib", env: { src: projectPath("/src") }, builder: "mkdir -p $out && cp $src/* $out/" });`,
        `  const app = makeDerivation({ name: "app", env: { lib }, builder: "mkdir -p $out && cat $lib/a > $out/app" });`,
        `  const other = makeDerivation({ name: "other", env: { V: "1" }, builder: "mkdir -p $out && echo $V > $out/v" });`,
        `  return { jobs: { "/app": app, "/other": other } };`,
      ].join("\n"),
    ),
    "src/a": "a\n",
  });
  const layout = storeOf(dir);
  const first = await runMakes(dir, ["run", "/app", "/other"]);
  assert.equal(first.code, 0, shown(first));
  const [app, oldOther] = stdoutLines(first) as [string, string];
  assert.equal((await storeEntries(layout)).length, 4, "src, lib, app, other");

  await writeFile(join(dir, "makes.ts"), (await readFile(join(dir, "makes.ts"), "utf8")).replace(`V: "1"`, `V: "2"`));
  const second = await runMakes(dir, ["run", "/other"]);
  const newOther = stdoutLines(second)[0] ?? "";
  assert.notEqual(newOther, oldOther);

  const dry = await runMakes(dir, ["gc", "--dry-run"]);
  assert.equal(dry.code, 0, shown(dry));
  assert.deepEqual(stdoutLines(dry), [`would remove ${oldOther.split("/").pop()}`]);
  assert.ok(existsSync(oldOther));

  const gc = await runMakes(dir, ["gc"]);
  assert.equal(gc.code, 0, shown(gc));
  assert.deepEqual(stdoutLines(gc), [`removed ${oldOther.split("/").pop()}`]);
  assert.match(gc.stderr, /\b1 store path and 0 cached layers removed, 4 store paths kept\)/);
  assert.equal(existsSync(oldOther), false);
  assert.equal(existsSync(layout.metaPath(hashOfPath(oldOther))), false);
  const entries = await storeEntries(layout);
  assert.deepEqual(entries.map((e) => e.slice(33)).sort(), ["app", "lib", "other", "src"], "the deps of /app (lib, src) are kept through its metadata");
  assert.ok(entries.includes(app.split("/").pop() ?? ""));
  assert.ok(entries.includes(newOther.split("/").pop() ?? ""));
  const verify = await runMakes(dir, ["verify"]);
  assert.equal(verify.code, 0, shown(verify));
  const again = await runMakes(dir, ["run", "--reporter", "json", "/app", "/other"]);
  assert.deepEqual(jsonEvents(again).filter((e) => e.type === "node-built"), [], "everything still cached after gc");

  // an unreachable path deleted by hand: verify reports it missing, and gc (as verify advises) clears it
  await writeFile(join(dir, "makes.ts"), (await readFile(join(dir, "makes.ts"), "utf8")).replace(`V: "2"`, `V: "3"`));
  assert.equal((await runMakes(dir, ["run", "/other"])).code, 0);
  await rm(newOther, { recursive: true });
  const missing = await runMakes(dir, ["verify"]);
  assert.equal(missing.code, 1, shown(missing));
  assert.deepEqual(stdoutLines(missing), [`missing  ${newOther}`]);
  const gc2 = await runMakes(dir, ["gc"]);
  assert.equal(gc2.code, 0, shown(gc2));
  assert.deepEqual(stdoutLines(gc2), [`removed ${newOther.split("/").pop()}`]);
  const clean = await runMakes(dir, ["verify"]);
  assert.equal(clean.code, 0, shown(clean));
});

test("one store shared by two projects (MAKES_STORE): each keeps its own out-links; gc keeps both until a project's directory is gone", async (t) => {
  const store = await tempDir(t);
  const env = { MAKES_STORE: store };
  const project = (text: string): Promise<string> =>
    makeProject(t, { "makes.ts": makesTs(`  return { jobs: { "/build": makeDerivation({ name: "build", builder: "echo ${text} > $out" }) } };`) });
  const one = await project("one");
  const two = await project("two");
  const built = async (dir: string): Promise<string> => {
    const r = await runMakes(dir, ["run", "/build"], { env });
    assert.equal(r.code, 0, shown(r));
    return stdoutLines(r)[0] ?? "";
  };
  const pathOne = await built(one);
  const pathTwo = await built(two);
  assert.notEqual(pathOne, pathTwo);
  assert.equal(await readFile(pathOne, "utf8"), "one\n");

  const gc = await runMakes(one, ["gc"], { env });
  assert.equal(gc.code, 0, shown(gc));
  assert.deepEqual(stdoutLines(gc), [], "gc from one project keeps the other project's output");
  assert.ok(existsSync(pathOne) && existsSync(pathTwo));
  for (const dir of [one, two]) {
    const why = await runMakes(dir, ["why", "/build"], { env });
    assert.equal(why.code, 0, shown(why));
    assert.match(why.stdout + why.stderr, /is built and up to date/, `each project finds its own job's record:\n${shown(why)}`);
  }

  await rm(two, { recursive: true, force: true });
  const gc2 = await runMakes(one, ["gc"], { env });
  assert.equal(gc2.code, 0, shown(gc2));
  assert.deepEqual(stdoutLines(gc2), [`removed ${pathTwo.split("/").pop() ?? ""}`], "a project that is gone roots nothing");
  assert.ok(existsSync(pathOne));
});

test("README: `npm install -g ./packages/cli` gives a makes that runs the tour's makes.ts in a project elsewhere, in a path with a space", async (t) => {
  const readme = await readFile(join(REPO, "README.md"), "utf8");
  assert.match(readme, /npm install -g \.\/packages\/cli/, "the README says how to install makes");
  const tour = /## A tour of `makes.ts`\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(tour !== undefined, "the README has the tour's makes.ts");
  const prefix = await tempDir(t, "makes-npm-prefix-");
  // npm's own variables (set when the tests run under `npm test`) would change where it installs
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  await promisify(execFile)("npm", ["install", "-g", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, "./packages/cli"], { cwd: REPO, env });
  const project = join(await tempDir(t, "makes-own-project-"), "my project");
  await writeFiles(project, { "makes.ts": tour, "web/index.html": "<p>hi</p>\n" });
  const child = spawn(join(prefix, "bin", "makes"), ["run", "/site", "/lint", "--", "src"], {
    cwd: project,
    env: { ...env, CI: "1", MAKES_STORE: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const r = await finished(child);
  assert.equal(r.code, 0, shown(r));
  const [site] = stdoutLines(r);
  assert.ok(site?.startsWith(join(project, ".makes", "store")), shown(r));
  assert.equal(await readFile(join(site ?? "", "srv", "index.html"), "utf8"), "<p>hi</p>\n");
  assert.equal(stdoutLines(r)[1], "linting src");
});

test("makes gc drops the out-links of jobs that makes.ts no longer has, and then their outputs", async (t) => {
  const both = makesTs(`  return { jobs: { "/a": makeDerivation({ name: "a", builder: "echo a > $out" }), "/b": makeDerivation({ name: "b", builder: "echo b > $out" }) } };`);
  const dir = await makeProject(t, { "makes.ts": both });
  const r = await runMakes(dir, ["run", "/a", "/b"]);
  assert.equal(r.code, 0, shown(r));
  const [a, b] = stdoutLines(r) as [string, string];
  await writeFile(join(dir, "makes.ts"), both.replace(/, "\/b": makeDerivation\([^)]*\)/, ""));
  const dry = await runMakes(dir, ["gc", "--dry-run"]);
  assert.equal(dry.code, 0, shown(dry));
  assert.match(dry.stderr, /\/b is no longer a job of makes\.ts; would drop its out-link/);
  assert.deepEqual(stdoutLines(dry), [`would remove ${b.split("/").pop() ?? ""}`]);
  assert.ok(existsSync(b) && existsSync(storeOf(dir).outLink("/b")), "a dry run changes nothing");
  const gc = await runMakes(dir, ["gc"]);
  assert.equal(gc.code, 0, shown(gc));
  assert.deepEqual(stdoutLines(gc), [`removed ${b.split("/").pop() ?? ""}`]);
  assert.equal(existsSync(b), false);
  assert.ok(existsSync(a), "the job makes.ts still has keeps its output");
  assert.equal(existsSync(storeOf(dir).jobRecord("/b")), false, "its job record went with it");
});

test("makes --version prints the version of @makes/cli on stdout and exits 0, anywhere among makes's own arguments", async (t) => {
  const dir = await makeProject(t, { "makes.ts": DIAMOND });
  const { version } = JSON.parse(await readFile(join(REPO, "packages", "cli", "package.json"), "utf8")) as { version: string };
  for (const args of [["--version"], ["run", "/top", "--version"], ["-C", "nowhere", "--version"]]) {
    const r = await runMakes(dir, args);
    assert.equal(r.code, 0, shown(r));
    assert.equal(r.stdout, `${version}\n`);
    assert.equal(r.stderr, "");
  }
  assert.equal(existsSync(join(dir, ".makes")), false, "nothing was built");
  // After `--` it is a script's argument.
  const script = await runMakes(dir, ["run", "/hello", "--", "--version"]);
  assert.equal(script.code, 0, shown(script));
  assert.match(script.stdout, /^hello --version$/m);
});

test("makes gc and makes verify --repair on a read-only store: one line naming the path, exit 1, nothing removed", { timeout: 120_000 }, async (t) => {
  const disk = join(await tempDir(t, "makes-gc-ro-"), "store");
  await mkdir(disk);
  const { execFileSync } = await import("node:child_process");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", disk], { stdio: "pipe" });
  } catch {
    return t.skip("cannot mount a tmpfs here: needs root or CAP_SYS_ADMIN");
  }
  try {
    const dir = await makeProject(t, { "makes.ts": makesTs(`  return { jobs: { "/a": makeDerivation({ name: "a", env: { v: process.env.V ?? "1" }, builder: "mkdir -p $out && echo $v > $out/v" }) } };`) });
    for (const v of ["1", "2"]) {
      const r = await runMakes(dir, ["run", "/a", "--store", disk], { env: { V: v } });
      assert.equal(r.code, 0, shown(r));
    }
    const layout = storeOf(disk, { root: true });
    const before = await storeEntries(layout);
    await rm(join(disk, "store", before[0] ?? "", "v")).catch(() => undefined); // a damaged path for --repair
    execFileSync("mount", ["-o", "remount,ro", disk]);
    for (const args of [["gc", "--keep-since", "0s"], ["verify", "--repair"]]) {
      const r = await runMakes(dir, [...args, "--store", disk]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${shown(r)}`);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, shown(r));
      assert.match(r.stderr, /^makes: error: The store is on a read-only file system \(\S+\) while removing \S+ \(makes (gc|verify --repair)\); /m, shown(r));
    }
    assert.deepEqual(await storeEntries(layout), before);
  } finally {
    execFileSync("umount", [disk]);
  }
});
