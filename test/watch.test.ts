// End-to-end tests of `makes run --watch`: a real makes process on a fixture project in a temporary
// directory, real file edits, its plain-reporter output read back. caching.md cases 9, 10 and 11, a
// dev server restarted when its input changes, and Ctrl-C.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { processAlive } from "./helpers/project.ts";

const MAKES = join(dirname(fileURLToPath(import.meta.url)), "..", "packages", "cli", "bin", "makes.js");
/** Generous: CI runs two test files at once on small machines. */
const WAIT_MS = 15_000;
/** How long "nothing happens" is watched for: many times the 80 ms debounce. */
const QUIET_MS = 800;
const IDLE = /^makes: watching /m;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const processes: WatchProcess[] = [];
const dirs: string[] = [];

after(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>, options: { git?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "makes-watch-"));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) write(dir, rel, text);
  if (options.git === true) execFileSync("git", ["init", "-q"], { cwd: dir });
  return dir;
}

function write(dir: string, rel: string, text: string): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), text);
}

/** A running `makes run --watch --reporter plain`, its output collected. */
class WatchProcess {
  stdout = "";
  stderr = "";
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  done = false;

  constructor(cwd: string, jobs: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [MAKES, "run", "--watch", ...jobs, "--reporter", "plain"], {
      cwd,
      env: { ...process.env, ...env, CI: "1", MAKES_STORE: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr?.on("data", (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      }),
    );
    processes.push(this);
  }

  /** Where "new output" starts, for waitFor and since. */
  mark(): number {
    return this.stderr.length;
  }

  since(mark: number): string {
    return this.stderr.slice(mark);
  }

  /** Waits until stderr after `mark` matches; fails with the output so far after WAIT_MS. */
  async waitFor(pattern: RegExp, mark = 0, what = String(pattern)): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const text = this.since(mark);
      if (pattern.test(text)) return text;
      if (this.done) assert.fail(`makes exited while waiting for ${what}; stderr:\n${this.stderr}`);
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; stderr:\n${this.stderr}`);
      await sleep(10);
    }
  }

  /** Waits for the idle line printed after the iteration that follows `mark`. */
  waitIdle(mark = 0): Promise<string> {
    return this.waitFor(IDLE, mark, "the idle line");
  }

  async interrupt(signal: NodeJS.Signals = "SIGINT"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), WAIT_MS)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === "timeout") assert.fail(`makes did not exit after ${signal}; stderr:\n${this.stderr}`);
    return result;
  }

  async kill(): Promise<void> {
    if (this.done) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

const count = (text: string, pattern: RegExp): number => [...text.matchAll(new RegExp(pattern.source, "gm"))].length;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}


test("case 9: a burst of 20 saves across 3 packages runs each affected job once, in dependency order; unused files run nothing", async (t) => {
  const copy = (name: string, dep?: string) =>
    `makeDerivation({ name: "${name}", env: { src: projectPath("/pkgs/${name}")${dep === undefined ? "" : `, dep: ${dep}`} }, builder: \`mkdir -p $out && cat ${dep === undefined ? "" : "$dep/out.txt "}$src/*.txt > $out/out.txt\` })`;
  const dir = project({
    "makes.ts": [
      "export default ({ makeDerivation, projectPath }: any) => {",
      `  const a = ${copy("a")};`,
      `  const b = ${copy("b", "a")};`,
      `  const c = ${copy("c", "b")};`,
      `  const d = ${copy("d")};`,
      `  return { jobs: { "/a": a, "/b": b, "/c": c, "/d": d } };`,
      "};",
      "",
    ].join("\n"),
    "pkgs/a/0.txt": "a0\n",
    "pkgs/b/0.txt": "b0\n",
    "pkgs/c/0.txt": "c0\n",
    "pkgs/d/0.txt": "d0\n",
    "notes/todo.txt": "nothing\n",
  });
  const w = new WatchProcess(dir, ["/c"]);
  await w.waitIdle();
  assert.match(w.stderr, /^built +\/c /m);
  assert.match(w.stderr, /^makes: watching 3 files in 3 trees and 1 config file; press Ctrl-C to stop$/m);
  const firstOut = w.stdout;

  // Edits of existing files and new files, several saves of the same file, in a tight loop.
  const saves = Array.from({ length: 20 }, (_, i) => {
    const pkg = ["a", "b", "c"][i % 3] ?? "a";
    return [join(dir, `pkgs/${pkg}/${i % 6}.txt`), `${pkg} save ${i}\n`] as const;
  });
  let mark = w.mark();
  // Spread over 48 ms (one save every 2.4 ms, spinning rather than sleeping to keep the pace), so the
  // watcher sees a stream of events, not one instant.
  const started = performance.now();
  for (const [i, [file, text]] of saves.entries()) {
    while (performance.now() - started < i * 2.4);
    writeFileSync(file, text);
  }
  t.diagnostic(`20 saves in ${(performance.now() - started).toFixed(1)} ms`);
  const burst = await w.waitIdle(mark);
  await sleep(QUIET_MS);
  const all = w.since(mark);
  assert.equal(count(all, /^makes: .* changed; rebuilding$/), 1, `one iteration expected:\n${all}`);
  for (const job of ["/a", "/b", "/c"]) assert.equal(count(all, new RegExp(`^building ${job}$`)), 1, `${job} built once:\n${all}`);
  const order = ["/a", "/b", "/c"].map((job) => burst.search(new RegExp(`^built +${job} `, "m")));
  assert.ok(order.every((pos, i) => pos >= 0 && (i === 0 || pos > (order[i - 1] ?? 0))), `dependency order a, b, c:\n${burst}`);
  assert.doesNotMatch(all, /^building \/d$/m);
  assert.equal(count(all, IDLE), 1);
  const newPath = w.stdout.slice(firstOut.length).trim();
  assert.match(readFileSync(join(newPath, "out.txt"), "utf8"), /c save 17/);

  // Saves no watched job uses: a package outside the closure, a file outside every tree, and a save
  // that leaves a file's content as it was.
  mark = w.mark();
  write(dir, "pkgs/d/0.txt", "d changed\n");
  write(dir, "notes/todo.txt", "still nothing\n");
  write(dir, "pkgs/a/3.txt", readFileSync(join(dir, "pkgs/a/3.txt"), "utf8"));
  utimesSync(join(dir, "pkgs/b/0.txt"), new Date(), new Date());
  await sleep(QUIET_MS);
  assert.equal(w.since(mark), "", "nothing runs, nothing is printed");
});

test("case 10: a builder that writes a log into the project gives exactly one iteration per save, then the watcher stays idle", async () => {
  const dir = project(
    {
      ".gitignore": "*.log\n",
      "makes.ts": [
        "export default ({ makeDerivation, projectPath }: any) => ({",
        "  jobs: {",
        '    "/app": makeDerivation({',
        '      name: "app",',
        // The whole project is the source tree: it holds the store (.makes), the log and makes.ts.
        '      env: { src: projectPath("/"), LOG: `${import.meta.dirname}/watch.log` },',
        '      builder: `echo start >> "$LOG"; sleep 0.2; echo end >> "$LOG"; mkdir -p $out; cp $src/src/main.txt $out/`,',
        "    }),",
        "  },",
        "});",
        "",
      ].join("\n"),
      "src/main.txt": "v1\n",
    },
    { git: true },
  );
  const w = new WatchProcess(dir, ["/app"], { MAKES_DEBUG_WATCH: "1" });
  await w.waitIdle();
  await sleep(QUIET_MS);
  assert.equal(count(w.stderr, /^building \/app$/), 1, w.stderr);
  assert.equal(count(w.stderr, IDLE), 1, `the log and the store writes started no iteration:\n${w.stderr}`);

  const mark = w.mark();
  write(dir, "src/main.txt", "v2\n");
  await w.waitIdle(mark);
  await sleep(QUIET_MS * 2);
  const out = w.since(mark);
  assert.equal(count(out, /^building \/app$/), 1, `exactly one iteration:\n${out}`);
  assert.equal(count(out, IDLE), 1, `then idle:\n${out}`);
  assert.equal(readFileSync(join(dir, "watch.log"), "utf8"), "start\nend\nstart\nend\n");
  // The log is seen (it is in the tree, ignored by git, so it changes no hash); makes' own writes —
  // the store, its logs and out-links, the temporary config bundle — are never even watched.
  assert.match(w.stderr, /^makes: watch: (add|change) .*\/watch\.log$/m);
  assert.doesNotMatch(w.stderr, /^makes: watch: .*\/(\.makes|\.git)\//m);
  assert.doesNotMatch(w.stderr, /^makes: watch: .*\.makes-config-/m);
});

test("case 10, not ignored: a builder writing into its own source tree is reported as a loop", async () => {
  const dir = project({
    "makes.ts": [
      "export default ({ makeDerivation, projectPath }: any) => ({",
      "  jobs: {",
      '    "/app": makeDerivation({',
      '      name: "app",',
      '      env: { src: projectPath("/src"), LOG: `${import.meta.dirname}/src/build.txt` },',
      '      builder: `date +%s%N >> "$LOG"; sleep 0.05; mkdir -p $out`,',
      "    }),",
      "  },",
      "});",
      "",
    ].join("\n"),
    "src/main.txt": "v1\n",
  });
  const w = new WatchProcess(dir, ["/app"]);
  await w.waitFor(/^warning: the last 3 rebuilds were each started by files that changed while the previous one was building \(src\/build\.txt\)/m, 0, "the loop warning");
  await w.waitFor(/paused: save a file to rebuild/, 0, "the paused idle line");
  // Paused: the builder (which appends a line to build.txt each time it runs) is not run again...
  const builds = (): number => readFileSync(join(dir, "src", "build.txt"), "utf8").split("\n").filter((l) => l !== "").length;
  const pausedAt = builds();
  assert.equal(pausedAt, 4, "the first build and the 3 rebuilds it set off, then nothing");
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(builds(), pausedAt, "no rebuild while paused");
  // ...until the user saves a file; then the loop runs its 3 rebuilds again and pauses again.
  const mark = w.mark();
  write(dir, "src/main.txt", "v2\n");
  await w.waitFor(/paused: save a file to rebuild/, mark, "paused again");
  assert.equal(builds(), pausedAt + 4);
  await w.kill();
});

test("case 11: a syntax error in makes.ts or an import is shown with file:line:col, watching goes on, fixing it resumes", async () => {
  const good = (extra: string) =>
    [
      'import { copy } from "./helper.ts";',
      "export default ({ makeDerivation, projectPath }: any) => ({",
      `  jobs: { "/app": makeDerivation({ name: "app", env: { src: projectPath("/src")${extra} }, builder: copy }) },`,
      "});",
      "",
    ].join("\n");
  const helper = 'export const copy = `mkdir -p $out && cat $src/* ${"$"}{extra:+$extra/*} > $out/all.txt`;\n';
  const dir = project({ "makes.ts": good(""), "helper.ts": helper, "src/a.txt": "a\n", "extra/e.txt": "e1\n" });
  const w = new WatchProcess(dir, ["/app"]);
  await w.waitIdle();

  let mark = w.mark();
  const broken = good("").replace('name: "app",', 'name: "app" "oops",');
  const col = (broken.split("\n")[2] ?? "").indexOf('"oops"') + 1;
  write(dir, "makes.ts", broken);
  let out = await w.waitIdle(mark);
  assert.match(out, new RegExp(`^makes: error: makes\\.ts:3:${col}: `, "m"));
  assert.match(out, /fix the error above/);
  assert.doesNotMatch(out, /building/);

  // While makes.ts is broken a source save builds nothing.
  mark = w.mark();
  write(dir, "src/a.txt", "a2\n");
  out = await w.waitIdle(mark);
  assert.doesNotMatch(out, /^building/m);

  // The fix adds a tree: the watched set follows the new config.
  mark = w.mark();
  write(dir, "makes.ts", good(', extra: projectPath("/extra")'));
  out = await w.waitIdle(mark);
  assert.match(out, /^building \/app$/m);
  assert.match(out, /^makes: watching 2 files in 2 trees and 2 config files/m);
  mark = w.mark();
  write(dir, "extra/e.txt", "e2\n");
  out = await w.waitIdle(mark);
  assert.match(out, /^makes: extra\/e\.txt changed; rebuilding$/m);
  assert.equal(readFileSync(join(w.stdout.trim().split("\n").at(-1) ?? "", "all.txt"), "utf8"), "a2\ne2\n");

  // An imported file is watched and its errors point into it.
  mark = w.mark();
  write(dir, "helper.ts", "export const copy = ;\n");
  out = await w.waitIdle(mark);
  assert.match(out, /^makes: error: helper\.ts:1:21: /m);
  mark = w.mark();
  write(dir, "helper.ts", helper.replace("all.txt", "joined.txt"));
  out = await w.waitIdle(mark);
  assert.match(out, /^built +\/app /m);
  assert.equal(readFileSync(join(w.stdout.trim().split("\n").at(-1) ?? "", "joined.txt"), "utf8"), "a2\ne2\n");
});

test("a source tree that is deleted (rm -rf, a checkout) is watched for: its return and later edits rebuild", async () => {
  const dir = project({
    "makes.ts": 'export default ({ makeDerivation, projectPath }: any) => ({ jobs: { "/a": makeDerivation({ name: "a", env: { src: projectPath("/pkgs/a") }, builder: `mkdir -p "$out"; cat "$src/a.txt" > "$out/a.txt"` }) } });\n',
    "pkgs/a/a.txt": "v1\n",
    "notes.txt": "n1\n",
  });
  const w = new WatchProcess(dir, ["/a"], { MAKES_DEBUG_WATCH: "1" });
  await w.waitIdle();
  const output = (): string => readFileSync(join(w.stdout.trim().split("\n").at(-1) ?? "", "a.txt"), "utf8");

  // The tree and its parent go: an error, and makes watches for the tree to come back.
  let mark = w.mark();
  rmSync(join(dir, "pkgs"), { recursive: true });
  let out = await w.waitIdle(mark);
  assert.match(out, /^makes: error: projectPath\("\/pkgs\/a"\): .*pkgs\/a does not exist; /m);
  assert.match(out, /^makes: watching 0 trees and 1 config file, and for pkgs\/a to be created; fix the error above; press Ctrl-C to stop$/m);
  // Only the way to the missing tree is watched, not the rest of the project.
  mark = w.mark();
  write(dir, "notes.txt", "n2\n");
  await sleep(QUIET_MS);
  assert.equal(w.since(mark), "", "a file outside the missing tree's place runs nothing");

  mark = w.mark();
  write(dir, "pkgs/a/a.txt", "v2\n");
  out = await w.waitIdle(mark);
  assert.match(out, /^built +\/a /m);
  assert.match(out, /^makes: watching 1 file in 1 tree and 1 config file; press Ctrl-C to stop$/m);
  assert.equal(output(), "v2\n");
  mark = w.mark();
  write(dir, "pkgs/a/a.txt", "v3\n");
  await w.waitFor(/^built +\/a /m, mark, "the rebuild after an edit in the recreated tree");
  await w.waitIdle(mark);
  assert.equal(output(), "v3\n");

  // Deleted and recreated within one burst (a checkout): the plan never fails, edits are still seen.
  mark = w.mark();
  rmSync(join(dir, "pkgs", "a"), { recursive: true });
  write(dir, "pkgs/a/a.txt", "v4\n");
  await w.waitFor(/^built +\/a /m, mark, "the rebuild after the tree was replaced");
  await w.waitIdle(mark);
  assert.equal(output(), "v4\n");
  await sleep(QUIET_MS);
  mark = w.mark();
  write(dir, "pkgs/a/a.txt", "v5\n");
  await w.waitFor(/^built +\/a /m, mark, "the rebuild after an edit in the replaced tree");
  await w.waitIdle(mark);
  assert.equal(output(), "v5\n");
});

test("a tree missing at the start, and a makes.ts deleted and restored, are watched for", async () => {
  const config = 'export default ({ makeDerivation, projectPath }: any) => ({ jobs: { "/a": makeDerivation({ name: "a", env: { src: projectPath("/src") }, builder: `mkdir -p "$out"; cat "$src/a.txt" > "$out/a.txt"` }) } });\n';
  const dir = project({ "makes.ts": config });
  const w = new WatchProcess(dir, ["/a"]);
  let out = await w.waitIdle();
  assert.match(out, /^makes: watching 0 trees and 1 config file, and for src to be created; fix the error above; press Ctrl-C to stop$/m);
  let mark = w.mark();
  write(dir, "src/a.txt", "v1\n");
  out = await w.waitIdle(mark);
  assert.match(out, /^built +\/a /m);

  mark = w.mark();
  rmSync(join(dir, "makes.ts"));
  out = await w.waitIdle(mark);
  assert.match(out, /^makes: error: No makes\.ts in /m);
  assert.match(out, /^makes: watching 0 config files, and for makes\.ts to be created; fix the error above; press Ctrl-C to stop$/m);
  // Gone long enough for the watcher to notice, then back: reloaded and run again.
  await sleep(QUIET_MS);
  mark = w.mark();
  write(dir, "makes.ts", config.replace('name: "a"', 'name: "a2"'));
  out = await w.waitIdle(mark);
  assert.match(out, /^built +\/a /m);
  assert.match(w.stdout.trim().split("\n").at(-1) ?? "", /-a2$/);
});

test("a dev server (script job) is restarted after its input rebuilds; Ctrl-C stops it and exits 130", async () => {
  const port = await freePort();
  const dir = project({
    "makes.ts": [
      "export default ({ makeDerivation, makeScript, projectPath }: any) => {",
      '  const site = makeDerivation({ name: "site", env: { src: projectPath("/site") }, builder: `mkdir -p $out && cp $src/index.html $out/` });',
      '  return { jobs: { "/serve": makeScript({ name: "serve", entrypoint: `exec node server.cjs ${site}/index.html` }) } };',
      "};",
      "",
    ].join("\n"),
    // Runs in the caller's directory with the caller's environment, like any script job.
    "server.cjs": [
      'const fs = require("node:fs");',
      'require("node:http").createServer((req, res) => res.end(fs.readFileSync(process.argv[2])))',
      '  .listen(Number(process.env.PORT), "127.0.0.1", () => fs.appendFileSync("serve.log", `${process.pid}\\n`));',
      "",
    ].join("\n"),
    "site/index.html": "v1",
  });
  const w = new WatchProcess(dir, ["/serve"], { PORT: String(port) });
  const get = async (): Promise<string> => {
    try {
      return await (await fetch(`http://127.0.0.1:${port}/`)).text();
    } catch {
      return "";
    }
  };
  const until = async (want: string): Promise<void> => {
    const deadline = Date.now() + WAIT_MS;
    while ((await get()) !== want) {
      if (Date.now() > deadline) assert.fail(`the server never served ${want}; stderr:\n${w.stderr}`);
      await sleep(20);
    }
  };
  await until("v1");
  assert.match(w.stderr, /^makes: starting \/serve$/m);
  assert.equal(w.stdout, "", "a script job prints no path");

  write(dir, "site/index.html", "v2");
  await until("v2");
  assert.match(w.stderr, /^makes: restarting \/serve$/m);
  const pids = readFileSync(join(dir, "serve.log"), "utf8").trim().split("\n").map(Number);
  assert.equal(pids.length, 2, "started twice (the new one could bind the port: the old one was gone)");
  assert.equal(processAlive(pids[0] ?? 0), false, "the old server was stopped");

  const { code } = await w.interrupt();
  assert.equal(code, 130);
  assert.equal(processAlive(pids[1] ?? 0), false, "Ctrl-C stopped the server");
  assert.equal(await get(), "");
});

test("SIGTERM stops watch mode as Ctrl-C does: the script's whole group is stopped, exit 143", async () => {
  const dir = project({
    "makes.ts": 'export default ({ makeScript }: any) => ({ jobs: { "/bg": makeScript({ name: "bg", entrypoint: "sleep 60 & echo $! > pids; exec node -e \'require(`fs`).appendFileSync(`pids`, process.pid + `\\\\n`); setInterval(() => {}, 1000)\'" }) } });\n',
  });
  const w = new WatchProcess(dir, ["/bg"]);
  const deadline = Date.now() + WAIT_MS;
  const started = (): boolean => /^\d+\n\d+\n$/.test(readFileSync(join(dir, "pids"), { encoding: "utf8", flag: "a+" }));
  while (!started()) {
    if (Date.now() > deadline) assert.fail(`the script never started; stderr:\n${w.stderr}`);
    await sleep(20);
  }
  const pids = readFileSync(join(dir, "pids"), "utf8").trim().split("\n").map(Number);
  const { code } = await w.interrupt("SIGTERM");
  assert.equal(code, 143);
  assert.deepEqual(pids.map(processAlive), [false, false], "the script and its background child were stopped");
});

test("Ctrl-C during a build stops it and exits 130; an unknown job at start is a usage error", async () => {
  const dir = project({
    "makes.ts": 'export default ({ makeDerivation }: any) => ({ jobs: { "/slow": makeDerivation({ name: "slow", builder: "sleep 30; mkdir $out" }) } });\n',
  });
  const w = new WatchProcess(dir, ["/slow"]);
  await w.waitFor(/^building \/slow$/m);
  const started = Date.now();
  const { code } = await w.interrupt();
  assert.equal(code, 130);
  assert.ok(Date.now() - started < 5000, "stopped promptly");

  const typo = new WatchProcess(dir, ["/slwo"]);
  const result = await typo.exited;
  assert.equal(result.code, 2);
  assert.match(typo.stderr, /No job named "\/slwo"; closest: \/slow/);
});
