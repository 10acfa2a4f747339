/**
 * Source files makes may not read, and trees that vanish: each is a one-line error naming the file or the tree,
 * never an internal error, a crash or a silently emptier tree. The permission cases run makes as another user
 * (root reads everything), so they need root to set that up.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeProject, makesTs, runMakes, shown, stdoutLines } from "./helpers/project.js";

const NOBODY = 65534;

const TREES = makesTs(
  [
    `  const web = makeDerivation({ name: "web", env: { src: projectPath("/web") }, builder: "mkdir -p $out && ls $src > $out/list" });`,
    `  const other = makeDerivation({ name: "other", env: { src: projectPath("/other") }, builder: "mkdir -p $out && ls $src > $out/list" });`,
    `  return { jobs: { "/web": web, "/other": other } };`,
  ].join("\n"),
);

function asRoot(t: { skip(message: string): void }): boolean {
  if (process.getuid?.() === 0) return true;
  t.skip("needs root, to run makes as another user");
  return false;
}

/** One line of error, exit 1, no internal error or stack. */
function assertOneLineError(r: Awaited<ReturnType<typeof runMakes>>, pattern: RegExp): void {
  assert.equal(r.code, 1, shown(r));
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at |node:internal/, shown(r));
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("makes: error:"));
  assert.equal(errors.length, 1, shown(r));
  assert.match(errors[0] ?? "", pattern, shown(r));
}

/** A project of `files` that nobody owns, with `unreadable` made so (mode 000), run as nobody: /web, then /other. */
async function runWithUnreadable(t: Parameters<typeof makeProject>[0], files: Record<string, string>, unreadable: string) {
  const dir = await makeProject(t, { "makes.ts": TREES, "web/index.html": "hi\n", "other/a": "a\n", ...files });
  execFileSync("chown", ["-R", `${NOBODY}:${NOBODY}`, dir]);
  await chmod(join(dir, unreadable), 0o000);
  const web = await runMakes(dir, ["run", "/web"], { uid: NOBODY, env: { HOME: dir } });
  const other = await runMakes(dir, ["run", "/other"], { uid: NOBODY, env: { HOME: dir } });
  return { dir, web, other };
}

test("a source file makes may not read is a one-line error naming it; other trees still build", async (t) => {
  if (!asRoot(t)) return;
  const { web, other } = await runWithUnreadable(t, { "web/noread": "secret\n" }, "web/noread");
  assertOneLineError(web, /^makes: error: projectPath\("\/web"\): cannot read web\/noread \(permission denied\); make it readable by this user, or move it out of the tree$/);
  assert.equal(other.code, 0, shown(other));
});

test("a directory makes may not read fails only the trees that hold it, in one line, with no crash", async (t) => {
  if (!asRoot(t)) return;
  const { dir, web, other } = await runWithUnreadable(t, { "web/locked/x": "x\n" }, "web/locked");
  assertOneLineError(web, /^makes: error: projectPath\("\/web"\): cannot read the directory web\/locked \(permission denied\); make it readable by this user, or move it out of the tree$/);
  assert.equal(other.code, 0, shown(other));
  assert.deepEqual(await (await import("node:fs/promises")).readdir(join(dir, ".makes", "tmp")), [], "no build directory left");
});

test("a tree git still tracks but that is deleted from disk is the 'does not exist' error, not an empty tree", async (t) => {
  const dir = await makeProject(t, { "makes.ts": TREES, ".gitignore": ".makes/\n", "web/index.html": "hi\n", "other/a": "a\n" });
  const git = (...args: string[]): void => void execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir, stdio: "pipe" });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "init");
  const first = await runMakes(dir, ["run", "/web"]);
  assert.equal(first.code, 0, shown(first));
  await rm(join(dir, "web"), { recursive: true });
  const r = await runMakes(dir, ["run", "/web"]);
  assert.notEqual(r.code, 0, shown(r));
  assert.equal(r.stdout, "", shown(r));
  assert.match(r.stderr, /^makes: error: projectPath\("\/web"\): .*web does not exist/m, shown(r));
  // Back, with another file: built from what is there.
  await mkdir(join(dir, "web"));
  await writeFile(join(dir, "web", "new.html"), "new\n");
  const back = await runMakes(dir, ["run", "/web"]);
  assert.equal(back.code, 0, shown(back));
  assert.equal((await import("node:fs")).readFileSync(join(stdoutLines(back)[0] ?? "", "list"), "utf8"), "new.html\n");
});
