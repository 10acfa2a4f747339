/**
 * Isolation (issue 5, case caching 7):
 * - a builder cannot see the caller's environment: with API_TOKEN set in the shell that runs makes, a
 *   builder's `${API_TOKEN:-unset}` is `unset`, its whole environment is the documented clean one, and the
 *   secret appears nowhere in the store (outputs, logs, metadata, layer cache, decompressed layers) nor in
 *   an image exported from it;
 * - nothing makes writes lands outside the store, the out-links and the files a user names (traced with
 *   strace when it is installed: every successful write-like syscall of makes and its children; and by
 *   snapshots of the project, a private TMPDIR and HOME). The one exception is the config loader's bundle
 *   cache under the nearest node_modules/.cache/makes (and, with no node_modules, its temporary bundle
 *   beside makes.ts, deleted before the run goes on);
 * - no layer entry escapes the image root: a package with `evil -> ../../..`, links to /etc, /etc/passwd,
 *   /dev/zero and / keeps them as symlinks, is never followed while it is read, and no entry name has `..`
 *   or a leading `/`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, createGunzip } from "node:zlib";
import tar from "tar-stream";
import { makeProject, MAKES_BIN, runMakes, shown, stdoutLines, tempDir } from "../helpers/project.ts";
import { figures, sha256OfFile } from "./support.ts";

const execFileP = promisify(execFile);

const PROBE = `
export default ({ makeDerivation, makeContainerImage }: any) => {
  const probe = makeDerivation({
    name: "probe",
    builder: [
      "mkdir -p $out/etc",
      "echo \\"token=\${API_TOKEN:-unset}\\" > $out/etc/token",
      "echo \\"token=\${API_TOKEN:-unset}\\"",
      "env -0 | tr '\\\\0' '\\\\n' | cut -d= -f1 | sort > $out/etc/env-names",
      "ln -s ../../.. $out/evil",
      "ln -s /etc $out/etc-link",
      "ln -s /etc/passwd $out/passwd",
      "ln -s /dev/zero $out/zero",
      "ln -s / $out/root-link",
      "mkdir -p $out/a/b && ln -s ../../../../../../../../../../tmp $out/a/b/up",
    ].join("\\n"),
  });
  return { jobs: { "/probe": probe, "/image": makeContainerImage({ layers: [probe], config: { Env: ["A=1"] } }) } };
};
`;

/** Every regular file under dir (recursively, symlinks not followed). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const abs = join(d, name);
      const st = await lstat(abs);
      if (st.isDirectory()) await walk(abs);
      else if (st.isFile()) out.push(abs);
    }
  };
  await walk(dir);
  return out;
}

/** Where `needle` occurs in the files under dir, gzip files searched decompressed as well. */
async function occurrences(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file);
    if (bytes.includes(needle)) found.push(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        if (gunzipSync(bytes).includes(needle)) found.push(`${file} (decompressed)`);
      } catch {
        // not gzip after all
      }
    }
  }
  return found;
}

test("a builder cannot see the caller's environment; the secret is nowhere in the store or the image", { timeout: 180_000 }, async (t) => {
  const marker = randomBytes(8).toString("hex");
  const secret = `secret-${marker}`;
  const project = await makeProject(t, { "makes.ts": PROBE });
  const store = join(await tempDir(t, "makes-isolation-"), "store");
  const env = { API_TOKEN: secret, MAKES_CALLER_ONLY: `caller-${marker}`, npm_config_secret: secret, SSH_AUTH_SOCK: `/tmp/ssh-${marker}` };
  const r = await runMakes(project, ["run", "/probe", "/image", "--store", store, "-L"], { env });
  assert.equal(r.code, 0, shown(r));
  const [probe] = stdoutLines(r);
  assert.equal(await readFile(join(probe ?? "", "etc", "token"), "utf8"), "token=unset\n");
  const names = (await readFile(join(probe ?? "", "etc", "env-names"), "utf8")).split("\n").filter((n) => n !== "");
  const allowed = new Set(["out", "PATH", "HOME", "TMPDIR", "SOURCE_DATE_EPOCH", "LANG", "TZ", "PWD", "SHLVL", "_", "OLDPWD"]);
  assert.deepEqual(names.filter((n) => !allowed.has(n)), [], `the builder saw variables beyond the clean environment: ${names.join(" ")}`);
  assert.doesNotMatch(r.stderr, new RegExp(marker), "the secret reached the build log shown on stderr");
  // The image, exported to a file the user names, and the whole store.
  const exported = join(dirname(store), "image.tar");
  const ex = await runMakes(project, ["export", "/image", "--format", "docker-archive", "-o", exported, "--store", store], { env });
  assert.equal(ex.code, 0, shown(ex));
  const leaks = [...(await occurrences(store, marker)), ...(await occurrences(dirname(exported), marker))];
  assert.deepEqual(leaks, [], "the secret appears in these files");
  t.diagnostic(figures("isolation-env", { builderVariables: names.length, filesSearched: (await filesUnder(dirname(store))).length, leaks: leaks.length }));
});

// ---------------------------------------------------------------------------------------------------------

/**
 * Write-like syscalls that succeeded, with the absolute path they wrote, from `strace -ff -y` (one file per
 * process or thread, so no call is split across lines). Relative paths are resolved against the process's
 * working directory, followed through chdir/fchdir and inherited through clone/fork.
 */
async function writesIn(traceDir: string, startCwd: string): Promise<Array<{ call: string; path: string }>> {
  const files = new Map<number, string>();
  for (const name of await readdir(traceDir)) {
    const m = /^trace\.(\d+)$/.exec(name);
    if (m !== null) files.set(Number(m[1]), await readFile(join(traceDir, name), "utf8"));
  }
  const children = new Set<number>();
  for (const text of files.values()) for (const m of text.matchAll(/\b(?:clone3?|fork|vfork)\(.*\) = (\d+)$/gm)) children.add(Number(m[1]));
  const writes: Array<{ call: string; path: string }> = [];
  const str = String.raw`"((?:[^"\\]|\\.)*)"`;
  // with -y, a directory fd and AT_FDCWD are shown with their path: AT_FDCWD</cwd>, 3</dir>
  const dirfd = String.raw`(?:AT_FDCWD|\d+)(?:<([^>]*)>)?`;
  const decode = (x: string): string => Buffer.from(x.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\(["\\])/g, "$1"), "latin1").toString("utf8");
  const visit = (pid: number, inherited: string): void => {
    let cwd = inherited;
    const at = (fdPath: string | undefined, p: string): string => resolve(fdPath ?? cwd, p);
    for (const line of (files.get(pid) ?? "").split("\n")) {
      if (/ = -1 /.test(line)) continue;
      let m: RegExpMatchArray | null;
      if ((m = line.match(/\b(?:clone3?|fork|vfork)\(.*\) = (\d+)$/)) !== null) {
        visit(Number(m[1]), cwd);
      } else if ((m = line.match(new RegExp(String.raw`^chdir\(${str}\) = 0`))) !== null) {
        cwd = resolve(cwd, decode(m[1] ?? ""));
      } else if ((m = line.match(/^fchdir\(\d+<([^>]*)>\) = 0/)) !== null) {
        cwd = m[1] ?? cwd;
      } else if ((m = line.match(new RegExp(String.raw`^openat\(${dirfd}, ${str}, ([A-Z_|]+)`))) !== null) {
        if (/O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(m[3] ?? "")) writes.push({ call: "open", path: at(m[1], decode(m[2] ?? "")) });
      } else if ((m = line.match(new RegExp(String.raw`^(symlinkat)\(${str}, ${dirfd}, ${str}`))) !== null) {
        writes.push({ call: m[1] ?? "", path: at(m[3], decode(m[4] ?? "")) });
      } else if ((m = line.match(new RegExp(String.raw`^(mkdirat|unlinkat|fchmodat|fchownat|utimensat)\(${dirfd}, ${str}`))) !== null) {
        writes.push({ call: m[1] ?? "", path: at(m[2], decode(m[3] ?? "")) });
      } else if ((m = line.match(new RegExp(String.raw`^(renameat2?|linkat)\(${dirfd}, ${str}, ${dirfd}, ${str}`))) !== null) {
        writes.push({ call: m[1] ?? "", path: at(m[4], decode(m[5] ?? "")) });
        if (m[1]?.startsWith("rename") === true) writes.push({ call: m[1] ?? "", path: at(m[2], decode(m[3] ?? "")) });
      } else if ((m = line.match(new RegExp(String.raw`^(mkdir|rmdir|unlink|chmod|chown|lchown|truncate|creat|utime|utimes)\(${str}`))) !== null) {
        writes.push({ call: m[1] ?? "", path: at(undefined, decode(m[2] ?? "")) });
      } else if ((m = line.match(new RegExp(String.raw`^(rename|link|symlink)\(${str}, ${str}`))) !== null) {
        writes.push({ call: m[1] ?? "", path: at(undefined, decode(m[3] ?? "")) });
        if (m[1] === "rename") writes.push({ call: m[1] ?? "", path: at(undefined, decode(m[2] ?? "")) });
      }
    }
  };
  for (const pid of files.keys()) if (!children.has(pid)) visit(pid, startCwd);
  return writes;
}

/** A tree's entries with a digest of each file (for snapshots before and after). */
async function snapshot(dir: string, skip: (abs: string) => boolean = () => false): Promise<Map<string, string>> {
  const snap = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const abs = join(d, name);
      if (skip(abs)) continue;
      const st = await lstat(abs);
      if (st.isDirectory()) {
        snap.set(abs, `dir ${(st.mode & 0o7777).toString(8)}`);
        await walk(abs);
      } else if (st.isSymbolicLink()) snap.set(abs, `-> ${await readlink(abs)}`);
      else snap.set(abs, `file ${(st.mode & 0o7777).toString(8)} ${st.size} ${await sha256OfFile(abs)}`);
    }
  };
  await walk(dir);
  return snap;
}

function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of after) if (before.get(k) !== v) out.push(`${before.has(k) ? "changed" : "added"} ${k}`);
  for (const k of before.keys()) if (!after.has(k)) out.push(`removed ${k}`);
  return out;
}

const hasStrace = existsSync("/usr/bin/strace") || existsSync("/bin/strace");

for (const withNodeModules of [false, true]) {
  test(`makes writes only in the store, the out-links and named files (${withNodeModules ? "with" : "without"} a node_modules)`, { timeout: 240_000 }, async (t) => {
    const work = await tempDir(t, "makes-writes-");
    const project = join(work, "project");
    await mkdir(join(project, "src"), { recursive: true });
    await writeFile(join(project, "makes.ts"), PROBE.replace('"/probe": probe,', '"/probe": probe, "/src": makeDerivation({ name: "src", env: { s: projectPath("/src") }, builder: "cp -r $s $out" }),').replace("({ makeDerivation, makeContainerImage }: any)", "({ makeDerivation, makeContainerImage, projectPath }: any)"));
    await writeFile(join(project, "src", "a.txt"), "a\n");
    if (withNodeModules) await mkdir(join(project, "node_modules"), { recursive: true });
    const store = join(work, "store");
    const home = join(work, "home");
    const tmp = join(work, "tmp");
    await mkdir(home);
    await mkdir(tmp);
    const named = join(work, "named", "image.tar");
    await mkdir(dirname(named));
    const env = { HOME: home, TMPDIR: tmp, XDG_CACHE_HOME: join(home, ".cache") };
    const commands = [
      ["run", "/probe", "/image", "/src", "--store", store],
      ["run", "/probe", "--store", store], // cached
      ["list", "--store", store],
      ["graph", "/image", "--store", store],
      ["why", "/image", "--store", store],
      ["log", "/probe", "--store", store],
      ["verify", "--store", store],
      ["export", "/image", "--format", "oci-archive", "-o", named, "--store", store],
      ["gc", "--store", store],
    ];
    const skipStore = (abs: string): boolean => abs === store || abs.startsWith(`${store}/`);
    const before = await snapshot(work, skipStore);
    const outside: string[] = [];
    const allWrites: string[] = [];
    let traced = 0;
    for (const args of commands) {
      let r;
      if (hasStrace) {
        const log = join(work, `strace-${traced++}`);
        await mkdir(log);
        r = await runStraced(project, args, env, join(log, "trace"));
        const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);
        const bundleBeside = new RegExp(String.raw`^${project.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\.makes-config-[0-9a-f]+\.mjs$`);
        const allowed = (path: string): boolean =>
          under(path, store) ||
          path === named || path.startsWith(`${named}.`) || // the file the user named (and a temporary sibling of it)
          (withNodeModules && (under(path, join(project, "node_modules", ".cache", "makes")) || path === join(project, "node_modules", ".cache"))) || // the loader's bundle cache
          (!withNodeModules && bundleBeside.test(path)) || // the loader's temporary bundle, deleted before the run goes on
          under(path, "/dev") || under(path, "/proc/self") || path.startsWith(`${work}/strace-`);
        for (const w of await writesIn(log, project)) {
          const path = w.path;
          allWrites.push(path);
          if (allowed(path)) continue;
          outside.push(`makes ${args.join(" ")}: ${w.call} ${path}`);
        }
        await rm(log, { recursive: true, force: true });
      } else {
        r = await runMakes(project, args, { env });
      }
      assert.equal(r.code, 0, `makes ${args.join(" ")}: ${shown(r)}`);
    }
    const after = await snapshot(work, skipStore);
    const expectedChanges = (c: string): boolean =>
      c.startsWith(`added ${named}`) || c.startsWith(`added ${dirname(named)}`) ||
      (withNodeModules && c.includes(join(project, "node_modules", ".cache"))) ||
      c.includes(`${work}/strace-`);
    const unexpected = changes(before, after).filter((c) => !expectedChanges(c));
    assert.deepEqual(unexpected, [], "files changed outside the store, the out-links and the named file");
    assert.deepEqual([...new Set(outside)], [], "writes outside the store, the out-links and the named file");
    if (hasStrace) {
      // The tracer sees writes at all: metadata, a builder's file, and a builder's relative mkdir resolved into its $out.
      assert.ok(allWrites.some((w) => w.startsWith(`${store}/meta/`)), "no write of metadata was traced");
      assert.ok(allWrites.some((w) => w.endsWith("/etc/env-names") && w.startsWith(`${store}/tmp/`)), "no write of a builder was traced");
      assert.ok(allWrites.some((w) => new RegExp(`^${store}/tmp/[^/]+/[^/]+-probe/a/b$`).test(w)), "a builder's relative mkdir was not resolved into its $out");
    }
    if (!hasStrace) t.diagnostic("strace is not installed: only the project, TMPDIR and HOME were compared (snapshots)");
    t.diagnostic(figures(`isolation-writes${withNodeModules ? "-node_modules" : ""}`, { commands: commands.length, traced: hasStrace, writesTraced: allWrites.length, outside: outside.length, unexpected: unexpected.length }));
  });
}

async function runStraced(cwd: string, args: readonly string[], extraEnv: Record<string, string>, log: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "1", ...extraEnv };
  for (const name of ["MAKES_STORE", "NODE_TEST_CONTEXT", "NODE_OPTIONS", "FORCE_COLOR"]) delete env[name];
  try {
    const { stdout, stderr } = await execFileP(
      "strace",
      ["-ff", "-qq", "-y", "-s", "4096", "-o", log, "-e", "trace=chdir,fchdir,clone,clone3,fork,vfork,openat,open,creat,mkdir,mkdirat,rmdir,unlink,unlinkat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,chmod,fchmodat,chown,lchown,fchownat,truncate,utime,utimes,utimensat", process.execPath, MAKES_BIN, ...args],
      { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
    );
    return { code: 0, signal: null, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; signal?: NodeJS.Signals; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : null, signal: e.signal ?? null, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

// ---------------------------------------------------------------------------------------------------------

test("no layer entry escapes the image root: symlinks out of a package stay symlinks and are never followed", { timeout: 120_000 }, async (t) => {
  const project = await makeProject(t, { "makes.ts": PROBE });
  const work = await tempDir(t, "makes-escape-");
  const store = join(work, "store");
  const r = await runMakes(project, ["run", "/image", "--store", store]);
  assert.equal(r.code, 0, shown(r));
  const image = stdoutLines(r)[0] ?? "";
  const index = JSON.parse(await readFile(join(image, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
  const blob = (d: string): string => join(image, "blobs", "sha256", d.replace("sha256:", ""));
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]?.digest ?? ""), "utf8")) as { layers: Array<{ digest: string }> };
  const entries: Array<{ name: string; type: string; linkname: string | null; size: number }> = [];
  let passwdLeaked = false;
  for (const layer of manifest.layers) {
    const extract = tar.extract();
    const done = (async () => {
      for await (const entry of extract) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        if (Buffer.concat(chunks).includes("root:x:0:0")) passwdLeaked = true;
        entries.push({ name: entry.header.name, type: entry.header.type ?? "", linkname: entry.header.linkname ?? null, size: entry.header.size ?? 0 });
      }
    })();
    createReadStream(blob(layer.digest)).pipe(createGunzip()).pipe(extract);
    await done;
  }
  for (const e of entries) {
    const name = e.name.replace(/\/$/, "");
    assert.ok(!name.startsWith("/") && !name.split("/").includes(".."), `entry ${e.name} escapes the root`);
  }
  const byName = new Map(entries.map((e) => [e.name.replace(/\/$/, ""), e]));
  for (const [name, target] of [["evil", "../../.."], ["etc-link", "/etc"], ["passwd", "/etc/passwd"], ["zero", "/dev/zero"], ["root-link", "/"], ["a/b/up", "../../../../../../../../../../tmp"]] as const) {
    const e = byName.get(name);
    assert.equal(e?.type, "symlink", `${name} is not a symlink in the layer`);
    assert.equal(e?.linkname, target);
  }
  assert.ok(!entries.some((e) => /^(evil|etc-link|root-link|a\/b\/up)\//.test(e.name)), "the writer descended into a symlinked directory");
  assert.equal(passwdLeaked, false, "the content of /etc/passwd is in the layer: a symlink was followed");
  // Extracting it (umoci) creates nothing outside the bundle.
  const bundle = join(work, "bundle");
  const sentinelDir = join(work, "outside");
  await mkdir(sentinelDir);
  const before = await readdir(work);
  await execFileP("umoci", ["unpack", "--image", `${image}:latest`, bundle]);
  assert.deepEqual((await readdir(work)).sort(), [...before, "bundle"].sort());
  assert.equal(await readlink(join(bundle, "rootfs", "evil")), "../../..");
  t.diagnostic(figures("isolation-layer", { entries: entries.length, symlinksChecked: 6, followed: 0 }));
});
