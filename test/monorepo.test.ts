/**
 * Orchestration of a monorepo (issue 4), end to end: the real makes CLI on a copy of fixtures/monorepo
 * (six packages that depend on each other, a test job per package, an image of the app), each test with
 * its own copy and its own store. Checks scheduling order, -j limits, --keep-going, globs, the JSON
 * reporter's events, `graph` in every format, `why` after an edit, and `gc` keeping what is reachable.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { jsonEvents, MAKES_BIN, REPO, runMakes, shown, stdoutLines, tempDir, type MakesResult } from "./helpers/project.js";

const FIXTURE = join(REPO, "fixtures", "monorepo");
const LIBS = ["strings", "math", "format", "logger", "core-api", "app"] as const;
type Lib = (typeof LIBS)[number];
/** The fixture's dependencies between packages, as its README describes them (not read from makes). */
const DEPS: Record<Lib, readonly Lib[]> = {
  strings: [],
  math: [],
  format: ["strings", "math"],
  logger: [],
  "core-api": ["format", "logger"],
  app: ["strings", "math", "format", "logger", "core-api"],
};
const build = (lib: Lib): string => `/packages/${lib}/build`;
/** Builds of the fixture: 6 packages, 6 source trees (packages/<name>/src) and tools/. */
const BUILD_NODES = 13;

type Event = ReturnType<typeof jsonEvents>[number];
interface Node {
  readonly hash: string;
  readonly label: string;
  readonly kind: string;
}
const nodeOf = (e: Event): Node => e.node as Node;

/** A copy of the fixture in a fresh temporary directory (its store will be `<copy>/.makes`). */
async function fixture(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await tempDir(t, "makes-monorepo-");
  await cp(FIXTURE, dir, { recursive: true, filter: (src) => !/[/\\](\.makes|node_modules)$/.test(src) });
  return dir;
}

async function makes(dir: string, args: readonly string[]): Promise<MakesResult> {
  return runMakes(dir, args, { timeoutMs: 120_000 });
}

/** The most builds that were running at once, from node-started / node-built / node-failed events. */
function maxRunning(events: readonly Event[]): number {
  let running = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === "node-started") max = Math.max(max, ++running);
    else if (e.type === "node-built" || e.type === "node-failed") running--;
  }
  return max;
}

function labelsOf(events: readonly Event[], type: string): string[] {
  return events.filter((e) => e.type === type).map((e) => nodeOf(e).label);
}

function summaryOf(events: readonly Event[]): Record<string, unknown> {
  const finished = events.filter((e) => e.type === "run-finished");
  assert.equal(finished.length, 1, "one run-finished event");
  return finished[0] as Record<string, unknown>;
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

interface GraphJson {
  jobs: string[];
  nodes: Array<{ id: string; label: string; kind: string; hash: string; built: boolean; path: string }>;
  edges: Array<{ from: string; to: string }>;
}

async function graphJson(dir: string, targets: readonly string[]): Promise<GraphJson> {
  const r = await makes(dir, ["graph", ...targets, "--format", "json"]);
  assert.equal(r.code, 0, shown(r));
  return JSON.parse(r.stdout) as GraphJson;
}

test("all builds, in dependency order, each node once (-j 1); then all cached; an edit rebuilds only its dependents", async (t) => {
  const dir = await fixture(t);
  const first = await makes(dir, ["run", "/packages/*/build", "--reporter", "json", "-j", "1"]);
  assert.equal(first.code, 0, shown(first));
  const events = jsonEvents(first);
  const started = events.filter((e) => e.type === "node-started");
  const built = events.filter((e) => e.type === "node-built");

  // Each node built exactly once; with -j 1 one at a time.
  const startedHashes = started.map((e) => nodeOf(e).hash);
  assert.equal(new Set(startedHashes).size, startedHashes.length, `a node started twice: ${labelsOf(events, "node-started").join(", ")}`);
  assert.deepEqual(new Set(built.map((e) => nodeOf(e).hash)), new Set(startedHashes));
  assert.equal(built.length, BUILD_NODES, labelsOf(events, "node-built").join(", "));
  assert.equal(maxRunning(events), 1, "-j 1 builds one node at a time");
  assert.deepEqual(summaryOf(events), { ...summaryOf(events), built: BUILD_NODES, cached: 0, failed: 0, skipped: 0 });

  // Dependency order between packages: every dep built before its dependent started.
  const builtAt = (label: string): number => events.findIndex((e) => e.type === "node-built" && nodeOf(e).label === label);
  const startedAt = (label: string): number => events.findIndex((e) => e.type === "node-started" && nodeOf(e).label === label);
  for (const lib of LIBS) {
    assert.ok(startedAt(build(lib)) >= 0, `${build(lib)} was built`);
    for (const dep of DEPS[lib]) {
      assert.ok(builtAt(build(dep)) >= 0 && builtAt(build(dep)) < startedAt(build(lib)), `${build(dep)} is built before ${build(lib)} starts`);
    }
  }
  // ... and along every edge of the graph makes reports (source trees included), by hash.
  const graph = await graphJson(dir, ["/packages/*/build"]);
  const hashOfId = new Map(graph.nodes.map((n) => [n.id, n.hash]));
  assert.equal(graph.nodes.length, BUILD_NODES);
  for (const edge of graph.edges) {
    const from = hashOfId.get(edge.from);
    const to = hashOfId.get(edge.to);
    const toBuilt = events.findIndex((e) => e.type === "node-built" && nodeOf(e).hash === to);
    const fromStarted = events.findIndex((e) => e.type === "node-started" && nodeOf(e).hash === from);
    assert.ok(toBuilt >= 0 && toBuilt < fromStarted, `edge ${edge.from} -> ${edge.to}: the dependency is built first`);
  }

  // The outputs: one path per job on stdout, and the bundled app works.
  const paths = stdoutLines(first);
  assert.equal(paths.length, LIBS.length, first.stdout);
  for (const p of paths) assert.ok(existsSync(p), p);
  const appPath = paths.find((p) => p.endsWith("-app"));
  assert.ok(appPath !== undefined, first.stdout);
  const report = execFileSync(process.execPath, [join(appPath, "app", "app.mjs"), "1", "2", "3"], { encoding: "utf8" });
  assert.equal(report, "[latency] info: 3 samples\nCount   3\nSum     6\nMean    2\n");

  // Second run: everything cached, nothing started, same outputs.
  const second = await makes(dir, ["run", "/packages/*/build", "--reporter", "json"]);
  assert.equal(second.code, 0, shown(second));
  const again = jsonEvents(second);
  assert.deepEqual(labelsOf(again, "node-started"), []);
  assert.equal(labelsOf(again, "node-cached").length, BUILD_NODES);
  assert.equal(summaryOf(again).built, 0);
  assert.equal(summaryOf(again).cached, BUILD_NODES);
  assert.deepEqual(stdoutLines(second), paths);

  // Edit one library: it and its dependents are rebuilt, nothing else.
  const stringsSrc = join(dir, "packages", "strings", "src", "index.mjs");
  await writeFile(stringsSrc, `${await readFile(stringsSrc, "utf8")}\nexport function shout(text) {\n  return text.toUpperCase();\n}\n`);
  const third = await makes(dir, ["run", "/packages/*/build", "--reporter", "json"]);
  assert.equal(third.code, 0, shown(third));
  const after = jsonEvents(third);
  const rebuiltJobs = labelsOf(after, "node-built").filter((l) => l.startsWith("/"));
  assert.deepEqual(new Set(rebuiltJobs), new Set([build("strings"), build("format"), build("core-api"), build("app")]));
  assert.equal(labelsOf(after, "node-built").length, 5, `the four builds and the strings source tree: ${labelsOf(after, "node-built").join(", ")}`);
  for (const lib of ["math", "logger"] as const) assert.ok(labelsOf(after, "node-cached").includes(build(lib)), `${build(lib)} is cached`);
  assert.equal(summaryOf(after).cached, BUILD_NODES - 5);
});

test("-j 2 never runs more than two builds at once, and does run two; every package's tests pass", async (t) => {
  const dir = await fixture(t);
  const r = await makes(dir, ["run", "/packages/*/build", "/packages/*/test", "-j", "2", "--reporter", "json"]);
  assert.equal(r.code, 0, shown(r));
  const events = jsonEvents(r);
  assert.equal(maxRunning(events), 2, `at most and at least two at once:\n${r.stderr}`);
  const runStarted = events.find((e) => e.type === "run-started");
  assert.equal(runStarted?.concurrency, 2);
  // 13 nodes of the builds, 6 test jobs and their 5 test/ source trees (the app's test is a bash check).
  assert.equal(labelsOf(events, "node-built").length, BUILD_NODES + 6 + 6);
  for (const p of stdoutLines(r).filter((l) => l.endsWith("-test"))) {
    const files = await readdir(p);
    const text = await readFile(join(p, files[0] ?? ""), "utf8");
    if (p.endsWith("-app-test")) assert.match(text, /^ok: app prints the report$/m);
    else assert.match(text, /^# fail 0$/m, `${p}:\n${text}`);
  }
  assert.equal(stdoutLines(r).length, 12);
  // A cached job's log can be shown again.
  const log = await makes(dir, ["log", "/packages/app/test"]);
  assert.equal(log.code, 0, shown(log));
  assert.match(log.stdout, /ok: app prints the report/);
});

test("--keep-going builds everything that does not depend on a failure; without it no build starts after the first failure", async (t) => {
  const dir = await fixture(t);
  // A syntax error in the first library: its build (`node --check`) fails.
  await writeFile(join(dir, "packages", "strings", "src", "index.mjs"), "export function padRight(text, width {\n");
  const dependents = [build("strings"), build("format"), build("core-api"), build("app")];

  const kept = await makes(dir, ["run", "/packages/*/build", "--keep-going", "-j", "1", "--reporter", "json"]);
  assert.equal(kept.code, 1, shown(kept));
  const events = jsonEvents(kept);
  assert.deepEqual(labelsOf(events, "node-failed"), [build("strings")]);
  const failed = events.find((e) => e.type === "node-failed");
  assert.match(String(failed?.detail ?? ""), /SyntaxError/, "the failure shows the end of the log");
  assert.ok(typeof failed?.logPath === "string" && existsSync(failed.logPath), "and names the full log");
  const builtJobs = labelsOf(events, "node-built").filter((l) => l.startsWith("/"));
  assert.deepEqual(new Set(builtJobs), new Set([build("math"), build("logger")]));
  const skipped = events.filter((e) => e.type === "node-skipped");
  assert.deepEqual(new Set(skipped.map((e) => nodeOf(e).label)), new Set(dependents.slice(1)));
  for (const e of skipped) assert.match(String(e.because), /strings\/build failed|was not built/);
  for (const label of dependents.slice(1)) assert.ok(!labelsOf(events, "node-started").includes(label), `${label} never started`);
  assert.deepEqual(summaryOf(events), { ...summaryOf(events), failed: 1, skipped: 3 });
  const keptPaths = stdoutLines(kept);
  assert.equal(keptPaths.length, 2, `the paths of the jobs that were built:\n${kept.stdout}`);
  assert.ok(keptPaths.some((p) => p.endsWith("-math")) && keptPaths.some((p) => p.endsWith("-logger")), kept.stdout);

  // Without --keep-going (a separate store): the failure stops new builds, running ones finish.
  const stopped = await makes(dir, ["--store", join(dir, "store2"), "run", "/packages/*/build", "-j", "1", "--reporter", "json"]);
  assert.equal(stopped.code, 1, shown(stopped));
  const ev = jsonEvents(stopped);
  const failedAt = ev.findIndex((e) => e.type === "node-failed");
  assert.ok(failedAt >= 0, stopped.stderr);
  assert.deepEqual(labelsOf(ev.slice(failedAt), "node-started"), [], "no build starts after the failure");
  for (const e of ev.filter((x) => x.type === "node-started")) {
    assert.ok(ev.some((x) => (x.type === "node-built" || x.type === "node-failed") && nodeOf(x).hash === nodeOf(e).hash), `${nodeOf(e).label} finished`);
  }
  const notBuilt = ev.filter((e) => e.type === "node-skipped" && e.because === "an earlier job failed").map((e) => nodeOf(e).label);
  assert.ok(notBuilt.includes(build("math")) || notBuilt.includes(build("logger")), `an independent build was stopped: ${notBuilt.join(", ")}`);
  assert.ok(labelsOf(ev, "node-built").length < labelsOf(events, "node-built").length, "fewer builds than with --keep-going");
  assert.match(stopped.stderr, /"type":"run-finished"/);
  assert.equal(stopped.stdout, "");
});

test("a glob that matches no job is a usage error (exit 2) that says so; nothing is built", async (t) => {
  const dir = await fixture(t);
  const r = await makes(dir, ["run", "/packages/*/deploy"]);
  assert.equal(r.code, 2, shown(r));
  assert.match(r.stderr, /No job matches "\/packages\/\*\/deploy"/);
  assert.match(r.stderr, /makes list/);
  assert.equal(r.stdout, "");
  const mixed = await makes(dir, ["run", "/packages/*/build", "/nothing/*"]);
  assert.equal(mixed.code, 2, shown(mixed));
  assert.match(mixed.stderr, /No job matches "\/nothing\/\*"/);
  assert.equal(existsSync(join(dir, ".makes", "out")) && (await readdir(join(dir, ".makes", "out"))).length > 0, false, "nothing was built");
  // `**` crosses segments, `*` does not.
  const list = await makes(dir, ["graph", "/**/test", "--format", "json"]);
  assert.equal(list.code, 0, shown(list));
  assert.equal((JSON.parse(list.stdout) as GraphJson).jobs.length, 6);
});

test("graph in dot, mermaid and json shows every edge and each node's hash and state", async (t) => {
  const dir = await fixture(t);
  const before = await graphJson(dir, ["/packages/*/build"]);
  assert.deepEqual([...before.jobs].sort(), LIBS.map(build).sort());
  assert.equal(before.nodes.length, BUILD_NODES);
  assert.ok(before.nodes.every((n) => !n.built && /^[0-9a-z]{32}$/.test(n.hash)));
  const idOf = (label: string): string => before.nodes.find((n) => n.label === label)?.id ?? `missing ${label}`;
  const jobEdges = new Set(before.edges.map((e) => `${e.from}->${e.to}`));
  for (const lib of LIBS) for (const dep of DEPS[lib]) assert.ok(jobEdges.has(`${idOf(build(lib))}->${idOf(build(dep))}`), `edge ${lib} -> ${dep}`);
  const jobIds = new Set(LIBS.map((l) => idOf(build(l))));
  const betweenJobs = before.edges.filter((e) => jobIds.has(e.from) && jobIds.has(e.to));
  assert.equal(betweenJobs.length, Object.values(DEPS).reduce((n, d) => n + d.length, 0), "no other edges between packages");

  const r = await makes(dir, ["run", "/packages/*/build"]);
  assert.equal(r.code, 0, shown(r));
  const afterBuild = await graphJson(dir, ["/packages/*/build"]);
  assert.ok(afterBuild.nodes.every((n) => n.built && existsSync(n.path)));
  assert.deepEqual(afterBuild.nodes.map((n) => n.hash), before.nodes.map((n) => n.hash), "building does not change hashes");
  for (const path of stdoutLines(r)) assert.ok(afterBuild.nodes.some((n) => n.path === path), `${path} is a node of the graph`);

  const dot = await makes(dir, ["graph", "/packages/*/build", "--format", "dot"]);
  assert.equal(dot.code, 0, shown(dot));
  assert.match(dot.stdout, /^digraph makes \{/);
  assert.equal(dot.stdout.match(/^\s+n\d+ -> n\d+;$/gm)?.length, before.edges.length);
  const mermaid = await makes(dir, ["graph", "/packages/*/build", "--format", "mermaid"]);
  assert.equal(mermaid.code, 0, shown(mermaid));
  assert.match(mermaid.stdout, /^graph LR$/m);
  assert.equal(mermaid.stdout.match(/^\s+n\d+ --> n\d+$/gm)?.length, before.edges.length);
  for (const n of afterBuild.nodes) {
    for (const text of [dot.stdout, mermaid.stdout]) {
      assert.ok(text.includes(n.hash.slice(0, 12)), `the hash of ${n.label} is shown`);
      assert.ok(text.includes(n.label), `${n.label} is shown`);
    }
  }
  assert.doesNotMatch(dot.stdout, /not built/);

  // After an edit, the changed nodes are not built and have new hashes; the others keep theirs.
  const src = join(dir, "packages", "math", "src", "index.mjs");
  await writeFile(src, `${await readFile(src, "utf8")}// edited\n`);
  const edited = await graphJson(dir, ["/packages/*/build"]);
  for (const n of edited.nodes) {
    const old = afterBuild.nodes.find((o) => o.label === n.label && o.id === n.id);
    const changes = [build("math"), build("format"), build("core-api"), build("app")].includes(n.label);
    if (n.label.startsWith("/")) assert.equal(n.hash !== old?.hash, changes, `${n.label} ${changes ? "changes" : "keeps"} its hash`);
    assert.equal(n.built, n.hash === old?.hash, `${n.label} is built exactly when its hash is unchanged`);
  }
  // The image of the app: the app's build and Debian's nodejs (not built here).
  const image = await graphJson(dir, ["/app/image"]);
  const imageNode = image.nodes.find((n) => n.label === "/app/image");
  assert.equal(imageNode?.kind, "image");
  const imageDeps = image.edges.filter((e) => e.from === imageNode?.id).map((e) => image.nodes.find((n) => n.id === e.to));
  assert.ok(imageDeps.some((n) => n?.label === build("app")), "the image has the app");
  assert.ok(imageDeps.some((n) => n?.kind === "debian"), "and a Debian package");
});

test("docs/monorepo.md: the `makes why` example is what makes prints, after the commands it shows", async (t) => {
  const doc = await readFile(join(REPO, "docs", "monorepo.md"), "utf8");
  const block = /```\n(\$ makes run '\/packages\/\*\/build'[^\n]*\n\$ echo [^\n]*\n\$ makes why \/packages\/format\/build\n)([\s\S]*?)```/.exec(doc);
  assert.ok(block !== null, "the example is in docs/monorepo.md");
  assert.equal(block[1], "$ makes run '/packages/*/build' > /dev/null 2>&1\n$ echo '// a comment' >> packages/strings/src/index.mjs\n$ makes why /packages/format/build\n", "the commands this test runs");
  const dir = await fixture(t);
  const r = await makes(dir, ["run", "/packages/*/build"]);
  assert.equal(r.code, 0, shown(r));
  const src = join(dir, "packages", "strings", "src", "index.mjs");
  await writeFile(src, `${await readFile(src, "utf8")}// a comment\n`);
  const why = await makes(dir, ["why", "/packages/format/build"]);
  assert.equal(why.code, 0, shown(why));
  assert.equal(why.stdout, block[2]);
});

test("why names the edited file with its old and new digests; gc removes only unreachable paths", async (t) => {
  const dir = await fixture(t);
  const r = await makes(dir, ["run", "/packages/*/build", "/packages/logger/test"]);
  assert.equal(r.code, 0, shown(r));
  const upToDate = await makes(dir, ["why", "/packages/format/build"]);
  assert.equal(upToDate.code, 0, shown(upToDate));
  assert.match(upToDate.stdout, /\/packages\/format\/build is built and up to date/);

  const stringsSrc = join(dir, "packages", "strings", "src", "index.mjs");
  const loggerSrc = join(dir, "packages", "logger", "src", "index.mjs");
  const oldStrings = await readFile(stringsSrc, "utf8");
  const oldLogger = await readFile(loggerSrc, "utf8");
  const newStrings = oldStrings.replace("word[0].toUpperCase()", "word.charAt(0).toUpperCase()");
  const newLogger = `${oldLogger}// edited\n`;
  assert.notEqual(newStrings, oldStrings);
  await writeFile(stringsSrc, newStrings);
  await writeFile(loggerSrc, newLogger);

  const why = await makes(dir, ["why", "/packages/format/build"]);
  assert.equal(why.code, 0, shown(why));
  assert.ok(why.stdout.includes(`source file index.mjs changed: 644 ${sha256(oldStrings)} → 644 ${sha256(newStrings)}`), why.stdout);
  assert.match(why.stdout, /^\/packages\/strings\/build: inputs changed/m);
  assert.match(why.stdout, /^\/packages\/format\/build: inputs changed/m);
  assert.match(why.stdout, /dependency \/packages\/strings\/build changed/);
  assert.doesNotMatch(why.stdout, /math|logger/, "unchanged dependencies are not listed");
  assert.ok(!why.stdout.includes(sha256(oldLogger)), "the logger's edit is not part of format's closure");
  // The same for a job that was built together with others, and is not the first of them.
  const whyLogger = await makes(dir, ["why", "/packages/logger/test"]);
  assert.equal(whyLogger.code, 0, shown(whyLogger));
  assert.ok(whyLogger.stdout.includes(`source file index.mjs changed: 644 ${sha256(oldLogger)} → 644 ${sha256(newLogger)}`), whyLogger.stdout);
  assert.doesNotMatch(whyLogger.stdout, /never built/);
  const whyJson = await makes(dir, ["why", "/packages/core-api/build", "--json"]);
  const explained = JSON.parse(whyJson.stdout) as Array<{ reason: string; label: string }>;
  assert.deepEqual(new Set(explained.filter((e) => e.label.startsWith("/")).map((e) => e.label)), new Set([build("strings"), build("format"), build("logger"), build("core-api")]));
  assert.ok(explained.every((e) => e.reason === "inputs-changed"), whyJson.stdout);

  // Rebuild: the old outputs of strings, logger and their dependents are no longer reachable.
  const rebuilt = await makes(dir, ["run", "/packages/*/build", "/packages/logger/test", "--reporter", "json"]);
  assert.equal(rebuilt.code, 0, shown(rebuilt));
  assert.equal(summaryOf(jsonEvents(rebuilt)).built, 8);
  const storeDir = join(dir, ".makes", "store");
  const entriesBefore = await readdir(storeDir);
  const live = await graphJson(dir, ["/packages/*/build", "/packages/logger/test"]);
  assert.ok(live.nodes.every((n) => n.built));

  const gc = await makes(dir, ["gc"]);
  assert.equal(gc.code, 0, shown(gc));
  const removed = stdoutLines(gc).map((l) => l.replace(/^removed /, ""));
  const liveHashes = new Set(live.nodes.map((n) => n.hash));
  // 2 source trees + logger, strings, format, core-api, app, logger-test, and its test/ tree is unchanged.
  assert.deepEqual(new Set(removed), new Set(entriesBefore.filter((e) => !liveHashes.has(e.slice(0, 32)))));
  assert.equal(removed.length, 8, gc.stdout);
  assert.match(gc.stderr, /makes gc: freed .*\b8 (store )?paths\b.*removed/);
  for (const n of live.nodes) assert.ok(existsSync(n.path), `${n.label} is kept: an out-link reaches it`);
  const verify = await makes(dir, ["verify"]);
  assert.equal(verify.code, 0, shown(verify));
  const cached = await makes(dir, ["run", "/packages/*/build", "/packages/logger/test", "--reporter", "json"]);
  assert.equal(cached.code, 0, shown(cached));
  assert.equal(summaryOf(jsonEvents(cached)).built, 0, "everything reachable was kept");
  const second = await makes(dir, ["gc"]);
  assert.equal(second.stdout, "", "a second gc finds nothing to remove");
});

test("/app/image: Debian's nodejs and the bundled app; the image runs the app", async (t) => {
  const dir = await fixture(t);
  const r = await makes(dir, ["run", "/app/image"]);
  assert.equal(r.code, 0, shown(r));
  const image = stdoutLines(r)[0] ?? "";
  // The docker-archive view of the output: the config and the layers.
  const [manifest] = JSON.parse(await readFile(join(image, "manifest.json"), "utf8")) as Array<{ Config: string; Layers: string[]; RepoTags: string[] }>;
  assert.ok(manifest !== undefined);
  assert.deepEqual(manifest.RepoTags, ["monorepo-app:latest"]);
  const config = JSON.parse(await readFile(join(image, manifest.Config), "utf8")) as { config: { Entrypoint: string[]; WorkingDir: string } };
  assert.deepEqual(config.config.Entrypoint, ["/usr/bin/node", "/app/app.mjs"]);
  const listings = manifest.Layers.map((layer) => execFileSync("tar", ["-tzf", join(image, layer)], { encoding: "utf8", maxBuffer: 1 << 26 }).split("\n"));
  assert.ok(listings.some((files) => files.includes("app/app.mjs")), "a layer holds /app/app.mjs");
  assert.ok(listings.some((files) => files.includes("usr/bin/node")), "a layer holds /usr/bin/node");
  assert.ok(!listings.some((files) => files.some((f) => f.startsWith("usr/bin/python3"))), "python3 is excluded");

  const canRun = process.getuid?.() === 0 && spawnSync("umoci", ["--version"]).status === 0;
  if (!canRun) {
    t.diagnostic("not run in the image: needs root (chroot) and umoci");
    return;
  }
  const bundle = join(await tempDir(t, "makes-monorepo-image-"), "bundle");
  execFileSync("umoci", ["unpack", "--image", `${image}:latest`, bundle], { stdio: "ignore" });
  const out = execFileSync("chroot", [join(bundle, "rootfs"), ...config.config.Entrypoint, "1", "2", "3"], { encoding: "utf8", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  assert.equal(out, "[latency] info: 3 samples\nCount   3\nSum     6\nMean    2\n");
});

test("every JSON event of a large graph reaches a slow reader: makes waits for its output before exiting", async (t) => {
  // 300 packages (bench/generate-monorepo.mjs): ~135 KB of events, more than a pipe holds (64 KB).
  const { generate } = (await import(join(REPO, "bench", "generate-monorepo.mjs"))) as { generate(dir: string, n: number, files: number): unknown };
  const dir = await tempDir(t, "makes-monorepo-large-");
  generate(dir, 300, 300);
  // Once first, so that makes.ts's bundle is cached: a makes that starts esbuild has its stderr made
  // blocking by the child, which hides the problem.
  const warm = await makes(dir, ["list"]);
  assert.equal(warm.code, 0, shown(warm));
  // As in `makes run ... --reporter json 2>&1 | jq`, with a reader that starts late.
  const script = `"$NODE" "$MAKES" run '/p*/build' --dry-run --reporter json 2>&1 >/dev/null | { sleep 3; cat; }; exit "\${PIPESTATUS[0]}"`;
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "1", NODE: process.execPath, MAKES: MAKES_BIN };
  delete env.MAKES_STORE;
  delete env.NODE_OPTIONS;
  const r = spawnSync("bash", ["-c", script], { cwd: dir, env, encoding: "utf8", maxBuffer: 1 << 26, timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout.slice(-2000));
  const events = jsonEvents({ code: r.status, signal: null, stdout: "", stderr: r.stdout });
  assert.equal(events[0]?.type, "run-started");
  assert.equal(events.at(-1)?.type, "run-finished", `the last event arrived (${events.length} events, ${r.stdout.length} bytes)`);
  assert.equal(labelsOf(events, "node-would-build").length, 600);
});
