/**
 * `makes export` where the output goes wrong: a full disk, a reader that closes the pipe, and job names that
 * are globs or name the wrong kind of job. Each is one clear line (or, for a closed pipe, a quiet end).
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { MAKES_BIN, makeProject, runMakes, shown, tempDir, tryMountTmpfs } from "./helpers/project.ts";
import { storeOf } from "./helpers/store.ts";

const MAKES_TS = `
export default ({ makeDerivation, makeContainerImage }) => ({
  jobs: {
    // 3 MB that gzip cannot shrink: more than the small disk below holds
    "/img": makeContainerImage({ layers: [makeDerivation({ name: "data", builder: "mkdir -p $out/data && head -c 3000000 /dev/urandom > $out/data/x" })] }),
    "/rimg": makeContainerImage({ layers: [] }),
    "/run": makeDerivation({ name: "r", builder: "mkdir -p $out" }),
  },
});
`;

function assertOneLine(r: { code: number | null; stderr: string }, code: number, pattern: RegExp, what: string): void {
  assert.equal(r.code, code, `${what}: ${shown(r as never)}`);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("makes: error:"));
  assert.equal(errors.length, 1, `${what}: one error line: ${r.stderr}`);
  assert.match(errors[0] ?? "", pattern, what);
  assert.doesNotMatch(r.stderr, /^\s+at |internal error|Emitted 'error'/m, `${what}: ${r.stderr}`);
}

test("export to a full disk: one 'no space left' line, exit 1, no temporary file left", { timeout: 120_000 }, async (t) => {
  const dir = await makeProject(t, { "makes.ts": MAKES_TS });
  const built = await runMakes(dir, ["run", "/img"]);
  assert.equal(built.code, 0, shown(built));
  const disk = join(await tempDir(t, "makes-export-disk-"), "disk");
  await mkdir(disk);
  if (!tryMountTmpfs(t, disk, "size=1m", "the full-disk export")) return;
  try {
    for (const format of ["docker-archive", "oci-archive"]) {
      const r = await runMakes(dir, ["export", "/img", "--format", format, "-o", join(disk, "img.tar")]);
      assertOneLine(r, 1, /no space left on device while writing .*img\.tar/i, format);
      assert.deepEqual(await readdir(disk), [], `${format}: neither the archive nor its temporary file is left`);
    }
  } finally {
    execFileSync("umount", [disk]);
  }
});

test("export into a read-only or a forbidden directory names that file and -o, not the store", { timeout: 120_000 }, async (t) => {
  const dir = await makeProject(t, { "makes.ts": MAKES_TS });
  const built = await runMakes(dir, ["run", "/rimg"]);
  assert.equal(built.code, 0, shown(built));
  const disk = join(await tempDir(t, "makes-export-ro-"), "disk");
  await mkdir(disk);
  if (!tryMountTmpfs(t, disk, "size=1m,ro", "the read-only export")) return;
  try {
    const r = await runMakes(dir, ["export", "/rimg", "--format", "oci-archive", "-o", join(disk, "img.tar")]);
    assertOneLine(r, 1, /^makes: error: Cannot write \S+\/img\.tar: it is on a read-only file system; or write it elsewhere with -o FILE\.$/, "read-only");
    assert.doesNotMatch(r.stderr, /--store|makes gc/, "nothing about the store");
  } finally {
    execFileSync("umount", [disk]);
  }
  if (process.getuid?.() !== 0) return;
  // As another user, into a directory that user may not enter: the clean-up fails as the write did.
  const locked = join(await tempDir(t, "makes-export-locked-"), "locked");
  await mkdir(locked, { mode: 0o700 });
  execFileSync("chown", ["-R", "65534:65534", dir]);
  const r = await runMakes(dir, ["export", "/rimg", "--format", "oci-archive", "-o", join(locked, "img.tar")], { uid: 65534, env: { HOME: dir } });
  assertOneLine(r, 1, /^makes: error: Cannot write \S+\/img\.tar: permission denied \(EACCES\); make its directory writable by this user, or write it elsewhere with -o FILE\.$/, "forbidden");
});

test("export -o - into a pipe whose reader goes away ends quietly with 141 (128 + SIGPIPE)", { timeout: 120_000 }, async (t) => {
  const dir = await makeProject(t, { "makes.ts": MAKES_TS });
  const built = await runMakes(dir, ["run", "/img"]);
  assert.equal(built.code, 0, shown(built));
  // as `makes export … -o - | head -c 100`: read 100 bytes, then close the pipe
  const child = spawn(process.execPath, [MAKES_BIN, "export", "/img", "--format", "docker-archive", "-o", "-"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  let got = 0;
  child.stdout.on("data", (chunk: Buffer) => {
    got += chunk.length;
    if (got >= 100) child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  assert.ok(got >= 100, "some of the archive came through first");
  assert.equal(code, 141, stderr);
  assert.doesNotMatch(stderr, /error|EPIPE|^\s+at /im, stderr);
});

test("export takes one image job: a glob is resolved, several matches, a non-image job or no match are usage errors naming image jobs", { timeout: 120_000 }, async (t) => {
  const dir = await makeProject(t, { "makes.ts": MAKES_TS });
  const one = await runMakes(dir, ["export", "/ri*", "--format", "oci-archive", "-o", "one.tar"]);
  assert.equal(one.code, 0, shown(one));
  assert.ok(existsSync(join(dir, "one.tar")));
  assert.match(execFileSync("skopeo", ["inspect", `oci-archive:${join(dir, "one.tar")}`], { encoding: "utf8" }), /"Layers"/);

  const cases: Array<[string[], RegExp]> = [
    [["/r*"], /^makes: error: makes export writes one image, but "\/r\*" matches 2 jobs \(\/rimg, \/run\); name one of \/rimg$/],
    [["/run"], /^makes: error: \/run is a derivation job, not an image; makes export takes a makeContainerImage job$/],
    [["/ru*"], /^makes: error: \/run is a derivation job, not an image/],
    // Nothing matches: the suggestions are the image jobs only (not /run, which is as close to "/rum").
    [["/nope*"], /^makes: error: No image job matches "\/nope\*"; closest: \/img, \/rimg$/],
    [["/rum"], /^makes: error: No image job matches "\/rum"; closest: (\/img, \/rimg|\/rimg, \/img)$/],
  ];
  for (const [job, pattern] of cases) {
    const r = await runMakes(dir, ["export", ...job, "--format", "oci-archive", "-o", "x.tar"]);
    assertOneLine(r, 2, pattern, job.join(" "));
    assert.equal(existsSync(join(dir, "x.tar")), false);
  }
  assert.equal(existsSync(storeOf(dir).outLink("/run")), false, "nothing was built for a refused export");
});

test("export -o with an empty value says that it is empty", async (t) => {
  const dir = await makeProject(t, { "makes.ts": MAKES_TS });
  for (const args of [["-o", ""], ["--output="]]) {
    const r = await runMakes(dir, ["export", "/img", "--format", "oci-archive", ...args]);
    assertOneLine(r, 2, /^makes: error: -o: the value is empty; give a file name \(-o image\.tar\) or - for stdout$/, args.join(" "));
  }
});
