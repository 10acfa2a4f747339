/**
 * In a git work tree, makes takes the state of tracked files from git (`git ls-files -m` with settings that make
 * "unchanged" mean "the raw bytes are the index blob") and their digests from blob ids it has read before, so a
 * cached run stats no file. These tests change files in every way git could be fooled or could fool makes and
 * check that the output holds the bytes on disk.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { jsonEvents, makeProject, makesTs, runMakes, shown, stdoutLines } from "./helpers/project.js";

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir, stdio: "pipe", encoding: "utf8" });
}

/** A job whose output lists every entry of /pkg with its type and mode, and holds the content of every file. */
const JOB = makesTs(
  [
    `  const pkg = makeDerivation({`,
    `    name: "pkg",`,
    `    env: { src: projectPath("/pkg") },`,
    `    builder: "mkdir -p $out && cd $src && find . -mindepth 1 ! -type d | sort | while read -r f; do stat -c '%F %a %n' \\"$f\\"; done > $out/entries && for f in $(find . -type f | sort); do cat \\"$f\\"; done > $out/all",`,
    `  });`,
    `  return { jobs: { "/pkg": pkg } };`,
  ].join("\n"),
);

async function run(dir: string, env?: Record<string, string>): Promise<{ out: string; built: string[] }> {
  const r = await runMakes(dir, ["run", "--reporter", "json", "/pkg"], { env });
  assert.equal(r.code, 0, shown(r));
  const built = jsonEvents(r)
    .filter((e) => e.type === "node-built")
    .map((e) => (e.node as { label: string }).label);
  return { out: stdoutLines(r)[0] ?? "", built };
}

async function repo(t: Parameters<typeof makeProject>[0], files: Record<string, string> = {}): Promise<string> {
  const dir = await makeProject(t, { "makes.ts": JOB, ".gitignore": ".makes/\n", "pkg/a.txt": "alpha\n", "pkg/b.txt": "bravo\n", ...files });
  git(dir, "init", "-q");
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "init");
  return dir;
}

test("a tracked tree hashes the same from git's blob ids as from reading every file outside git", async (t) => {
  const dir = await repo(t);
  const first = await run(dir);
  const second = await run(dir); // the blob digests learned by the first run are used now
  assert.deepEqual(second.built, []);
  const plain = await makeProject(t, { "makes.ts": JOB, "pkg/a.txt": "alpha\n", "pkg/b.txt": "bravo\n" });
  const outside = await run(plain);
  assert.equal(outside.out.split("/").pop(), second.out.split("/").pop(), "the same store hash with and without git");
  assert.equal(first.out, second.out);
});

test("a same-size edit in the same second as the commit (git's racy case) is seen, every time", async (t) => {
  const dir = await repo(t);
  await run(dir);
  for (const word of ["ALPHA", "alpHA", "ALpha"]) {
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "x", "--allow-empty");
    await writeFile(join(dir, "pkg", "a.txt"), `${word}\n`);
    const { out } = await run(dir);
    assert.equal(await readFile(join(out, "all"), "utf8"), `${word}\nbravo\n`);
  }
});

test("an edit whose mtime is put back is seen (git compares ctime and inode too)", async (t) => {
  const dir = await repo(t);
  await run(dir);
  const file = join(dir, "pkg", "a.txt");
  const before = (await import("node:fs")).statSync(file);
  await writeFile(file, "ALPHA\n");
  await (await import("node:fs/promises")).utimes(file, before.atime, before.mtime);
  const { out } = await run(dir);
  assert.equal(await readFile(join(out, "all"), "utf8"), "ALPHA\nbravo\n");
});

test("the executable bit, a deletion, an untracked file and a file turned into a symlink all count", async (t) => {
  const dir = await repo(t);
  await run(dir);
  await chmod(join(dir, "pkg", "a.txt"), 0o755);
  assert.match(await readFile(join((await run(dir)).out, "entries"), "utf8"), /regular file 755 \.\/a\.txt/);
  await rm(join(dir, "pkg", "b.txt"));
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "alpha\n");
  await writeFile(join(dir, "pkg", "c.txt"), "charlie\n");
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "alpha\ncharlie\n");
  await rm(join(dir, "pkg", "a.txt"));
  await symlink("c.txt", join(dir, "pkg", "a.txt"));
  assert.match(await readFile(join((await run(dir)).out, "entries"), "utf8"), /symbolic link 777 \.\/a\.txt/);
});

test("files git does not compare (assume-unchanged, skip-worktree) are read all the same", async (t) => {
  const dir = await repo(t);
  await run(dir);
  git(dir, "update-index", "--assume-unchanged", "pkg/a.txt");
  git(dir, "update-index", "--skip-worktree", "pkg/b.txt");
  await writeFile(join(dir, "pkg", "a.txt"), "ALPHA\n");
  await writeFile(join(dir, "pkg", "b.txt"), "BRAVO\n");
  assert.equal(git(dir, "status", "--porcelain"), "", "git itself sees nothing");
  const { out } = await run(dir);
  assert.equal(await readFile(join(out, "all"), "utf8"), "ALPHA\nBRAVO\n");
});

test("core.autocrlf cannot hide an edit: a file whose bytes are not its blob, edited to another spelling of that blob", async (t) => {
  const dir = await makeProject(t, { "makes.ts": JOB, ".gitignore": ".makes/\n", "pkg/a.txt": "a\r\nb\n", "pkg/b.txt": "bravo\n" });
  git(dir, "init", "-q");
  git(dir, "config", "core.autocrlf", "true");
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "init");
  await run(dir);
  await writeFile(join(dir, "pkg", "a.txt"), "a\nb\r\n");
  assert.equal(git(dir, "status", "--porcelain"), "", "git itself calls the file unchanged");
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "a\nb\r\nbravo\n");
});

test("a clean filter cannot hide an edit, wherever its .gitattributes is: tracked, ignored, above the project", async (t) => {
  // The filter upper-cases on the way in: "alpha" on disk is the blob of "ALPHA", so git calls it unchanged.
  const filtered = async (top: string, project: string, attributes: () => Promise<void>): Promise<void> => {
    git(top, "init", "-q");
    git(top, "add", ".");
    git(top, "commit", "-qm", "init");
    assert.equal(await readFile(join((await run(project)).out, "all"), "utf8"), "ALPHA\nBRAVO\n");
    git(top, "config", "filter.up.clean", "tr a-z A-Z");
    git(top, "config", "filter.up.smudge", "cat");
    await attributes();
    await writeFile(join(project, "pkg", "a.txt"), "alpha\n");
    assert.equal(git(top, "status", "--porcelain"), "", "git itself calls the file unchanged");
    assert.equal(await readFile(join((await run(project)).out, "all"), "utf8"), "alpha\nBRAVO\n");
  };
  const files = { "makes.ts": JOB, ".gitignore": ".makes/\n.gitattributes\n", "pkg/a.txt": "ALPHA\n", "pkg/b.txt": "BRAVO\n" };

  const tracked = await makeProject(t, { ...files, ".gitignore": ".makes/\n" });
  await filtered(tracked, tracked, async () => {
    await writeFile(join(tracked, ".gitattributes"), "*.txt filter=up\n");
    git(tracked, "add", ".gitattributes");
    git(tracked, "commit", "-qm", "attributes");
  });

  const ignored = await makeProject(t, files);
  await filtered(ignored, ignored, () => writeFile(join(ignored, "pkg", ".gitattributes"), "*.txt filter=up\n"));

  const info = await makeProject(t, files);
  await filtered(info, info, () => writeFile(join(info, ".git", "info", "attributes"), "*.txt filter=up\n"));

  const above = await makeProject(t, { ".gitignore": ".makes/\n.gitattributes\n", "app/makes.ts": JOB, "app/pkg/a.txt": "ALPHA\n", "app/pkg/b.txt": "BRAVO\n" });
  await filtered(above, join(above, "app"), () => writeFile(join(above, ".gitattributes"), "*.txt filter=up\n"));
});

test("a damaged blob-digest cache is not believed", async (t) => {
  const dir = await repo(t);
  const { out } = await run(dir);
  const cache = join(dir, ".makes", "cache", "blob-digests");
  const text = await readFile(cache, "latin1");
  // A digest changed without its checksum: the file is refused whole.
  const lines = text.split("\n");
  lines[1] = `${(lines[1] ?? "").slice(0, 41)}${"0".repeat(64)}`;
  await writeFile(cache, lines.join("\n"), "latin1");
  assert.equal((await run(dir)).out, out);
  await writeFile(cache, "garbage");
  assert.equal((await run(dir)).out, out);
});

test("a SHA-256 repository (blob ids makes does not check) and a directory git does not track are read from disk", async (t) => {
  const dir = await makeProject(t, { "makes.ts": JOB, ".gitignore": ".makes/\n", "pkg/a.txt": "alpha\n", "pkg/b.txt": "bravo\n" });
  git(dir, "init", "-q", "--object-format=sha256");
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "init");
  await run(dir);
  await writeFile(join(dir, "pkg", "a.txt"), "ALPHA\n");
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "ALPHA\nbravo\n");
  await mkdir(join(dir, "pkg", "new"));
  await writeFile(join(dir, "pkg", "new", "z.txt"), "zulu\n");
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "ALPHA\nbravo\nzulu\n");
});

test("where git finds another repository than the nearest .git (a stray .git directory, GIT_DIR), its attributes still count", async (t) => {
  const filter = (dir: string): void => {
    git(dir, "config", "filter.up.clean", "tr a-z A-Z");
    git(dir, "config", "filter.up.smudge", "cat");
  };
  // An empty .git directory between the project and the real top: git skips it, and so must the search for attributes.
  const top = await makeProject(t, { ".gitattributes": "*.txt filter=up\n", ".gitignore": ".makes/\n", "a/proj/makes.ts": JOB, "a/proj/pkg/a.txt": "ALPHA\n", "a/proj/pkg/b.txt": "BRAVO\n" });
  git(top, "init", "-q");
  filter(top);
  await mkdir(join(top, "a", ".git"));
  git(top, "add", ".");
  git(top, "commit", "-qm", "init");
  const proj = join(top, "a", "proj");
  await run(proj);
  await writeFile(join(proj, "pkg", "a.txt"), "alpha\n");
  assert.equal(git(top, "status", "--porcelain"), "", "git itself calls the file unchanged");
  assert.equal(await readFile(join((await run(proj)).out, "all"), "utf8"), "alpha\nBRAVO\n");

  // GIT_DIR names a clone whose info/attributes has the filter: git compares against that repository.
  const a = await repo(t, { "pkg/a.txt": "ALPHA\n", "pkg/b.txt": "BRAVO\n" });
  await run(a);
  const b = join(a, "..", `${a.split("/").pop() ?? "a"}-clone`);
  t.after(() => rm(b, { recursive: true, force: true }));
  execFileSync("git", ["clone", "-q", a, b]);
  filter(b);
  await writeFile(join(b, ".git", "info", "attributes"), "* filter=up\n");
  await writeFile(join(a, "pkg", "a.txt"), "alpha\n");
  assert.equal(git(a, "-c", `core.worktree=${a}`, `--git-dir=${join(b, ".git")}`, "status", "--porcelain", "pkg"), "", "git itself calls the file unchanged");
  assert.equal(await readFile(join((await run(a, { GIT_DIR: join(b, ".git"), GIT_WORK_TREE: a })).out, "all"), "utf8"), "alpha\nBRAVO\n");
});

test("a .gitattributes inside an ignored directory that holds a tracked file counts", async (t) => {
  const dir = await repo(t, { ".gitignore": ".makes/\npkg/ign/\n", "pkg/ign/f.txt": "FOXTROT\n" });
  git(dir, "add", "-f", "pkg/ign/f.txt");
  git(dir, "commit", "-qm", "tracked in an ignored directory");
  git(dir, "config", "filter.up.clean", "tr a-z A-Z");
  await writeFile(join(dir, "pkg", "ign", ".gitattributes"), "* filter=up\n");
  await run(dir);
  await writeFile(join(dir, "pkg", "ign", "f.txt"), "foxtrot\n");
  assert.equal(git(dir, "status", "--porcelain"), "", "git itself calls the file unchanged");
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "alpha\nbravo\nfoxtrot\n");
});

test("a tracked directory turned into a symlink is copied as the symlink, or left out when ignored: nothing is read or written through it", async (t) => {
  for (const target of ["absolute", "relative"]) {
    const dir = await repo(t, { "pkg/sub/x.txt": "xray\n" });
    await run(dir);
    await (await import("node:fs/promises")).rename(join(dir, "pkg", "sub"), join(dir, "other"));
    await symlink(target === "absolute" ? join(dir, "other") : "../other", join(dir, "pkg", "sub"));
    const { out } = await run(dir);
    assert.equal(await readFile(join(dir, "other", "x.txt"), "utf8"), "xray\n", `${target}: the file the symlink leads to is untouched`);
    assert.match(await readFile(join(out, "entries"), "utf8"), /symbolic link 777 \.\/sub\n/, target);
    assert.equal(await readFile(join(out, "all"), "utf8"), "alpha\nbravo\n", `${target}: only the symlink itself is in the tree`);
  }
  // The same with the symlink ignored: git lists neither it nor (as deleted, behind a symlink) the files below it.
  const ignored = await repo(t, { "pkg/sub/x.txt": "xray\n" });
  await run(ignored);
  await writeFile(join(ignored, ".gitignore"), ".makes/\n/pkg/sub\n");
  await (await import("node:fs/promises")).rename(join(ignored, "pkg", "sub"), join(ignored, "other"));
  await symlink("../other", join(ignored, "pkg", "sub"));
  await writeFile(join(ignored, "other", "x.txt"), "changed through the link\n");
  const { out } = await run(ignored);
  assert.equal(await readFile(join(out, "entries"), "utf8"), "regular file 644 ./a.txt\nregular file 644 ./b.txt\n", "ignored symlink: nothing under it is read through it");
  // The other way round: a deleted tracked file whose name a new directory took keeps the directory's files.
  const dir = await repo(t, { "pkg/c": "charlie\n" });
  await run(dir);
  await rm(join(dir, "pkg", "c"));
  await mkdir(join(dir, "pkg", "c"));
  await writeFile(join(dir, "pkg", "c", "d.txt"), "delta\n");
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "alpha\nbravo\ndelta\n");
});

test("a file name that is not UTF-8 inside a source tree is a one-line error naming it; outside any tree it is no matter", async (t) => {
  const bad = Buffer.concat([Buffer.from("bad"), Buffer.from([0xff]), Buffer.from("name.txt")]);
  for (const inGit of [true, false]) {
    const dir = inGit ? await repo(t) : await makeProject(t, { "makes.ts": JOB, "pkg/a.txt": "alpha\n", "pkg/b.txt": "bravo\n" });
    const { writeFileSync } = await import("node:fs");
    await mkdir(join(dir, "other"), { recursive: true });
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/other/`), bad]), "x\n");
    if (inGit) {
      git(dir, "add", ".");
      git(dir, "commit", "-qm", "outside");
    }
    await run(dir);
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/pkg/`), bad]), "5\n");
    if (inGit) {
      git(dir, "add", ".");
      git(dir, "commit", "-qm", "inside");
    }
    const r = await runMakes(dir, ["run", "/pkg"]);
    assert.equal(r.code, 2, shown(r));
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("makes: error:"));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0] ?? "", /projectPath\("\/pkg"\): the name of pkg\/bad\\xffname\.txt is not valid UTF-8/, `${inGit ? "git" : "walk"}: ${r.stderr}`);
  }
});

test("a repository whose index is large enough for two git processes lists and vouches the same way", async (t) => {
  const many: Record<string, string> = {};
  // ~4,000 entries of ~90 bytes: an index over the 256 KB at which the listing is split.
  for (let i = 0; i < 4000; i++) many[`filler/d${i % 40}/file-with-a-longer-name-${i}.txt`] = `${i}\n`;
  const dir = await repo(t, many);
  const { statSync } = await import("node:fs");
  assert.ok(statSync(join(dir, ".git", "index")).size > 256 * 1024, "the index is over the split size");
  const first = await run(dir);
  assert.deepEqual((await run(dir)).built, [], "cached");
  await writeFile(join(dir, "pkg", "c.txt"), "charlie\n"); // untracked
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "alpha\nbravo\ncharlie\n");
  git(dir, "config", "filter.up.clean", "tr a-z A-Z");
  await writeFile(join(dir, ".gitignore"), ".makes/\n.gitattributes\n");
  await writeFile(join(dir, "pkg", ".gitattributes"), "*.txt filter=up\n"); // ignored, and still applied by git
  await writeFile(join(dir, "pkg", "a.txt"), "ALPHA\n");
  git(dir, "add", "pkg/a.txt");
  git(dir, "commit", "-qm", "upper");
  await run(dir);
  await writeFile(join(dir, "pkg", "a.txt"), "alpha\n");
  assert.equal(git(dir, "status", "--porcelain", "pkg/a.txt"), "", "git itself calls the file unchanged");
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "alpha\nbravo\ncharlie\n");
  assert.notEqual(first.out, "");
});

test("a project inside a directory its repository ignores (a home directory in git with * ignored) is walked, not empty", async (t) => {
  const top = await makeProject(t, { ".gitignore": "*\n!.gitignore\n", "proj/makes.ts": JOB, "proj/pkg/a.txt": "alpha\n", "proj/pkg/b.txt": "bravo\n" });
  git(top, "init", "-q");
  git(top, "add", ".gitignore");
  git(top, "commit", "-qm", "dotfiles");
  const proj = join(top, "proj");
  assert.equal(await readFile(join((await run(proj)).out, "all"), "utf8"), "alpha\nbravo\n");
  await writeFile(join(proj, "pkg", "a.txt"), "ALPHA\n");
  assert.equal(await readFile(join((await run(proj)).out, "all"), "utf8"), "ALPHA\nbravo\n");
});

test("attributes that change no bytes (binary, diff, linguist, -text) keep the fast path; one that converts turns it off", async (t) => {
  const dir = await repo(t, { ".gitattributes": "# which files are binary\n*.png binary\n\"a b.md\" linguist-documentation -text diff=markdown\n" });
  await run(dir);
  await run(dir);
  const digests = join(dir, ".makes", "cache", "blob-digests");
  assert.match(await readFile(digests, "latin1"), /\n[0-9a-f]{40} [0-9a-f]{64}\n/, "blob digests are learned: git's word is taken");
  await writeFile(join(dir, "pkg", "a.txt"), "ALPHA\n");
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "ALPHA\nbravo\n");
  // A macro could set text or a filter: counted as converting, like text itself.
  for (const line of ["[attr]mine text\n", "*.txt text=auto\n", "*.txt eol=lf\n", "*.txt crlf=input\n", "*.txt ident\n", "*.md working-tree-encoding=UTF-16\n"]) {
    const other = await repo(t, { ".gitattributes": `*.png binary\n${line}` });
    await run(other);
    await run(other);
    assert.equal(existsSync(join(other, ".makes", "cache", "blob-digests")), false, `${line.trim()}: no blob digest is learned`);
  }
});

test("GIT_WORK_TREE naming another work tree: the project is walked, not read through that tree's index", async (t) => {
  const other = await repo(t, { "pkg/a.txt": "other\n", "pkg/b.txt": "other\n" });
  const dir = await repo(t, { "pkg/a.txt": "other\n", "pkg/b.txt": "other\n" });
  await run(dir); // learns the blob of "other\n"
  await writeFile(join(dir, "pkg", "a.txt"), "mine!\n");
  git(dir, "commit", "-qam", "mine");
  const env = { GIT_DIR: join(other, ".git"), GIT_WORK_TREE: other };
  assert.equal(await readFile(join((await run(dir, env)).out, "all"), "utf8"), "mine!\nother\n");
});

test("a non-UTF-8 name that is only in the index (deleted from disk) does not fail the run", async (t) => {
  const dir = await repo(t);
  const bad = Buffer.concat([Buffer.from(`${dir}/pkg/bad`), Buffer.from([0xff]), Buffer.from(".txt")]);
  const { writeFileSync, rmSync } = await import("node:fs");
  writeFileSync(bad, "5\n");
  git(dir, "add", ".");
  git(dir, "commit", "-qm", "bad name");
  rmSync(bad);
  assert.equal(await readFile(join((await run(dir)).out, "all"), "utf8"), "alpha\nbravo\n");
});

test("projectPath through a symlinked parent directory is refused, naming the symlink, as a symlinked root is", async (t) => {
  for (const inGit of [true, false]) {
    const files = { "makes.ts": JOB.replace('projectPath("/pkg")', 'projectPath("/a/pkg")'), ".gitignore": ".makes/\n", "elsewhere/pkg/f.txt": "foxtrot\n" };
    const dir = await makeProject(t, files);
    await symlink("elsewhere", join(dir, "a"));
    if (inGit) {
      git(dir, "init", "-q");
      git(dir, "add", ".");
      git(dir, "commit", "-qm", "init");
    }
    const r = await runMakes(dir, ["run", "/pkg"]);
    assert.equal(r.code, 2, shown(r));
    assert.match(r.stderr, /^makes: error: projectPath\("\/a\/pkg"\): \S+\/a, on the way to \S+\/a\/pkg, is a symlink \(to "elsewhere"\), not a directory; source trees are not followed through symlinks: name the real directory instead: projectPath\("\/elsewhere\/pkg"\)$/m, `${inGit ? "git" : "walk"}: ${r.stderr}`);
  }
});

test("a cache that cannot be replaced leaves no temporary copy behind", async (t) => {
  const dir = await repo(t);
  await run(dir);
  const cacheDir = join(dir, ".makes", "cache");
  for (const name of ["blob-digests", "at-home.json", "stat-cache.json"]) {
    await rm(join(cacheDir, name), { force: true });
    await mkdir(join(cacheDir, name, "in-the-way"), { recursive: true });
  }
  await writeFile(join(dir, "pkg", "c.txt"), "charlie\n"); // something to learn, so that every cache is saved
  await run(dir);
  const { readdirSync } = await import("node:fs");
  assert.deepEqual(readdirSync(cacheDir).filter((f) => f.endsWith(".tmp")), []);
});

test("without git on the PATH a git work tree is walked, ignored files included, and a run says so once", async (t) => {
  const dir = await repo(t, { ".gitignore": ".makes/\n*.log\n" });
  await writeFile(join(dir, "pkg", "build.log"), "ignored\n");
  const withGit = await runMakes(dir, ["run", "--reporter", "json", "/pkg"]);
  assert.equal(withGit.code, 0, shown(withGit));
  assert.deepEqual(jsonEvents(withGit).filter((e) => e.type === "warning"), []);
  // A PATH with everything of /usr/bin but git.
  const bin = join(dir, "..", `no-git-bin-${process.pid}`);
  await mkdir(bin);
  t.after(() => rm(bin, { recursive: true, force: true }));
  for (const name of await readdir("/usr/bin")) if (!name.startsWith("git")) await symlink(join("/usr/bin", name), join(bin, name));
  const r = await runMakes(dir, ["run", "--reporter", "json", "/pkg"], { env: { PATH: bin } });
  assert.equal(r.code, 0, shown(r));
  const warnings = jsonEvents(r).filter((e) => e.type === "warning").map((e) => e.message);
  assert.equal(warnings.length, 1, shown(r));
  assert.match(String(warnings[0]), /^git is not on the PATH, so the source trees of .+ \(a git work tree\) are read from disk with the files \.gitignore ignores; install git/);
  assert.equal(await readFile(join(stdoutLines(r)[0] ?? "", "all"), "utf8"), "alpha\nbravo\nignored\n");
  const plain = await runMakes(dir, ["run", "/pkg"], { env: { PATH: bin } });
  assert.match(plain.stderr, /git is not on the PATH/);
});

test("a repository another user owns is still read through git (no 'dubious ownership' walk copying ignored files); a damaged index is walked with a warning", async (t) => {
  const dir = await repo(t, { ".gitignore": ".makes/\n*.env\n" });
  await writeFile(join(dir, "pkg", "secret.env"), "API_KEY=x\n");
  if (process.getuid?.() === 0) {
    execFileSync("chown", ["-R", "12345:12345", dir]);
    const store = join(dir, "..", `store-${process.pid}`);
    t.after(() => rm(store, { recursive: true, force: true }));
    const r = await runMakes(dir, ["run", "--reporter", "json", "--store", store, "/pkg"]);
    assert.equal(r.code, 0, shown(r));
    assert.deepEqual(jsonEvents(r).filter((e) => e.type === "warning"), [], shown(r));
    assert.equal(await readFile(join(stdoutLines(r)[0] ?? "", "all"), "utf8"), "alpha\nbravo\n", "the ignored secret.env stays out");
    execFileSync("chown", ["-R", "0:0", dir]);
  } else {
    t.diagnostic("not root: the other-owner half needs chown");
  }
  await writeFile(join(dir, ".git", "index"), "not an index");
  const r = await runMakes(dir, ["run", "--reporter", "json", "/pkg"]);
  assert.equal(r.code, 0, shown(r));
  const warnings = jsonEvents(r).filter((e) => e.type === "warning").map((e) => String(e.message));
  assert.equal(warnings.length, 1, shown(r));
  assert.match(warnings[0] ?? "", /^git failed: .*index.*, so the source trees of .+ \(a git work tree\) are read from disk with the files \.gitignore ignores; fix what git says to leave them out$/);
});
