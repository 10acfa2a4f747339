/** How builds run: interrupts (of builds and of script jobs), stray background processes, normalised outputs. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { finished, makeProject, makesTs, MAKES_BIN, runMakes, shown, spawnMakes, stdoutLines, tempDir, waitFor, processAlive } from "./helpers/project.js";
import { storeEntries, storeOf, validPaths } from "./helpers/store.js";


for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  test(`${signal} during a build: exit ${code} (128 + the signal, as a shell reports it), the builder's whole process group stopped, no temporary directory or lock left`, async (t) => {
    const scratch = await tempDir(t);
    const pids = join(scratch, "pids");
    const dir = await makeProject(t, {
      "makes.ts": makesTs(
        `  return { jobs: { "/long": makeDerivation({ name: "long", env: { PIDS: ${JSON.stringify(pids)} }, builder: 'sleep 60 & echo "$$ $!" > "$PIDS"; wait; mkdir $out' }) } };`,
      ),
    });
    const child = spawnMakes(dir, ["run", "/long"]);
    const result = finished(child);
    await waitFor("the builder to start", async () => /\d+ \d+\n/.test(await readFile(pids, "utf8").catch(() => "")));
    const [bash, sleeper] = (await readFile(pids, "utf8")).trim().split(" ").map(Number) as [number, number];
    child.kill(signal);
    const r = await result;
    assert.equal(r.code, code, shown(r));
    assert.equal(r.stdout, "");
    assert.doesNotMatch(r.stderr, /internal error|^\s+at /m);
    await waitFor("the builder and its child to be stopped", () => !processAlive(bash) && !processAlive(sleeper), 5000);
    const layout = storeOf(dir);
    assert.deepEqual(await readdir(layout.tmpDir), []);
    assert.deepEqual(await readdir(layout.locksDir), []);
    assert.deepEqual(await storeEntries(layout), []);
  });
}

/** A script job that records its bash's pid and its children's, then waits on them. */
function scriptProject(pids: string, entrypoint: string): string {
  return makesTs(`  return { jobs: { "/srv": makeScript({ name: "srv", env: { PIDS: ${JSON.stringify(pids)} }, entrypoint: ${JSON.stringify(entrypoint)} }) } };`);
}

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  test(`${signal} while a script job runs: passed on to the script's whole process group, makes waits for it and exits ${code}`, async (t) => {
    const scratch = await tempDir(t);
    const pids = join(scratch, "pids");
    // a server-like foreground child (node) of the script's bash, and a background one (sleep)
    const dir = await makeProject(t, {
      "makes.ts": scriptProject(pids, `sleep 60 & echo "$!" > "$PIDS"; node -e 'require("fs").appendFileSync(process.env.PIDS, process.pid + "\\n"); setInterval(() => {}, 1000)'`),
    });
    const child = spawnMakes(dir, ["run", "/srv"]);
    const result = finished(child);
    await waitFor("the script's server to start", async () => /^\d+\n\d+\n$/.test(await readFile(pids, "utf8").catch(() => "")));
    const [sleeper, server] = (await readFile(pids, "utf8")).trim().split("\n").map(Number) as [number, number];
    child.kill(signal);
    const r = await result;
    assert.equal(r.code, code, shown(r));
    assert.doesNotMatch(r.stderr, /internal error|^\s+at /m);
    assert.equal(processAlive(server), false, "the script's server was stopped before makes exited");
    assert.equal(processAlive(sleeper), false, "and its background child");
  });
}

test("a script that handles the signal itself: makes exits with the script's own code, after the script's children are gone", async (t) => {
  const scratch = await tempDir(t);
  const pids = join(scratch, "pids");
  const dir = await makeProject(t, {
    "makes.ts": scriptProject(pids, `trap 'echo stopping; exit 5' TERM; sleep 60 & echo "$$ $!" > "$PIDS"; wait`),
  });
  const child = spawnMakes(dir, ["run", "/srv"]);
  const result = finished(child);
  await waitFor("the script to start", async () => /\d+ \d+\n/.test(await readFile(pids, "utf8").catch(() => "")));
  const [bash, sleeper] = (await readFile(pids, "utf8")).trim().split(" ").map(Number) as [number, number];
  child.kill("SIGTERM");
  const r = await result;
  assert.equal(r.code, 5, shown(r));
  assert.equal(r.stdout, "stopping\n");
  assert.equal(processAlive(bash), false);
  assert.equal(processAlive(sleeper), false, "the script's background child got the signal too");
});

test("a process a builder leaves in the background neither holds up the build nor outlives it", async (t) => {
  const scratch = await tempDir(t);
  const pidFile = join(scratch, "bg");
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      `  return { jobs: { "/bg": makeDerivation({ name: "bg", env: { PIDFILE: ${JSON.stringify(pidFile)} }, builder: 'mkdir $out; sleep 30 & echo $! > "$PIDFILE"; echo left running' }) } };`,
    ),
  });
  const started = Date.now();
  const r = await runMakes(dir, ["run", "/bg"], { timeoutMs: 25_000 });
  assert.equal(r.code, 0, shown(r));
  assert.ok(Date.now() - started < 10_000, `the build waited for its background process (${Date.now() - started} ms)`);
  const pid = Number((await readFile(pidFile, "utf8")).trim());
  await waitFor("the background process to be stopped", () => !processAlive(pid), 5000);
});

test("outputs are normalised: fixed mtimes, the modes the builder left", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(
      `  return { jobs: { "/modes": makeDerivation({ name: "modes", builder: "mkdir -p $out/bin $out/private && echo x > $out/bin/tool && chmod 755 $out/bin/tool && echo s > $out/private/secret && chmod 600 $out/private/secret && chmod 700 $out/private && ln -s bin/tool $out/link" }) } };`,
    ),
  });
  const r = await runMakes(dir, ["run", "/modes"]);
  assert.equal(r.code, 0, shown(r));
  const out = stdoutLines(r)[0] ?? "";
  const modes: Record<string, string> = {};
  for (const rel of ["", "bin", "bin/tool", "private", "private/secret", "link"]) {
    const st = await lstat(join(out, rel));
    assert.equal(st.mtimeMs, 1000, `${rel || "."}: mtime is the store's fixed time`);
    if (!st.isSymbolicLink()) modes[rel] = (st.mode & 0o7777).toString(8);
  }
  assert.deepEqual(modes, { "": "755", bin: "755", "bin/tool": "755", private: "700", "private/secret": "600" });
  assert.deepEqual((await validPaths(storeOf(dir))).length, 1);
});

test("from a terminal a script job runs as a foreground job: it can open /dev/tty (a password prompt would work)", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(`  return { jobs: { "/tty": makeScript({ name: "tty", entrypoint: 'exec 3</dev/tty && echo "tty-ok"' }) } };`),
  });
  // script(1) runs makes on a pseudo-terminal: its stdin is a TTY, as in an interactive shell
  const command = [process.execPath, MAKES_BIN, "run", "/tty"].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const r = spawnSync("script", ["-qec", command, "/dev/null"], { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "1" }, timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /tty-ok/);
});

test("an output that names the build's temporary $out builds, with a warning naming the file", async (t) => {
  const dir = await makeProject(t, {
    "makes.ts": makesTs(`  return { jobs: { "/selfref": makeDerivation({ name: "selfref", builder: 'mkdir -p "$out/lib" "$out/bin" && echo x > "$out/lib/x" && ln -s "$out/lib/x" "$out/bin/x"' }) } };`),
  });
  const r = await runMakes(dir, ["run", "/selfref"]);
  assert.equal(r.code, 0, shown(r));
  assert.match(r.stderr, /warning: \/selfref: "bin\/x" names the build's temporary \$out/);
  const clean = await makeProject(t, {
    "makes.ts": makesTs(`  return { jobs: { "/rel": makeDerivation({ name: "rel", builder: 'mkdir -p "$out/lib" "$out/bin" && echo x > "$out/lib/x" && ln -s ../lib/x "$out/bin/x"' }) } };`),
  });
  const ok = await runMakes(clean, ["run", "/rel"]);
  assert.equal(ok.code, 0, shown(ok));
  assert.doesNotMatch(ok.stderr, /warning/, "a relative link is no warning");
});
