import { test } from "node:test";
import { randomBytes } from "node:crypto";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { BuildError } from "@makes/core";
import { extractArchive } from "./extract-archive.js";
import { readBaseImage } from "./read-base-image.js";
import { validateImageOptions } from "./validate-image-options.js";
import { writeImage } from "./write-image.js";
import { makeTree, pkg, run, tempDir } from "./oci-test-helpers.js";

/** A real docker-archive of a one-layer image, by skopeo. */
async function dockerArchive(dir: string): Promise<string> {
  // incompressible, so that half of a gzip of the archive is half of the archive
  const root = await makeTree(join(dir, "s/base"), [{ path: "etc/motd", file: randomBytes(200_000) }]);
  const options = validateImageOptions({}, { name: "base", tag: "v1", jobLabel: "/base" }, {});
  await writeImage({ layers: [[pkg("base", root)]], options, outDir: join(dir, "layout"), cacheDir: join(dir, "cache"), concurrency: 1, onWarning: () => undefined });
  const archive = join(dir, "base.tar");
  await run("skopeo", ["copy", `oci:${join(dir, "layout")}:v1`, `docker-archive:${archive}:base:v1`]);
  return archive;
}

/** Whether the rejection is one line of BuildError naming the archive and matching `what`. */
function badArchive(archive: string, what: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof BuildError, `a BuildError, not ${String(e)}`);
    assert.ok(e.message.startsWith(`makeContainerImage: fromImage ${archive} `), e.message);
    assert.match(e.message, what);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

test("a fromImage archive that is garbage, empty, cut short, damaged or escapes is one clear error each", async (t) => {
  const dir = await tempDir(t);
  const good = await dockerArchive(dir);
  const bytes = await readFile(good);
  const cases: Array<[string, Buffer | string, RegExp]> = [
    ["garbage.tar", "garbage\n", /is not a tar archive/],
    ["big-garbage.tar", Buffer.alloc(4096, 0x5a), /is not a tar archive/],
    ["empty.tar", "", /is an empty archive/],
    ["truncated.tar", bytes.subarray(0, Math.floor(bytes.length / 2)), /is truncated: it ends inside its entry/],
    ["damaged.tar", Buffer.concat([bytes.subarray(0, 1536), Buffer.alloc(1024, 0x5a)]), /is (damaged|truncated)/],
    ["cut.tar.gz", gzipSync(bytes).subarray(0, Math.floor(bytes.length / 2)), /is a gzip file cut short/],
    ["bad.tar.gz", Buffer.concat([Buffer.from([0x1f, 0x8b, 7, 0]), Buffer.alloc(600, 0x33)]), /is a damaged gzip file/],
    ["garbage.tar.gz", gzipSync(Buffer.alloc(4096, 0x5a)), /is not a tar archive \(no valid tar header at its start once gunzipped\)/],
  ];
  for (const [name, content, what] of cases) {
    const archive = join(dir, name);
    await writeFile(archive, content);
    await assert.rejects(extractArchive(archive, join(dir, `out-${name}`)), badArchive(archive, what), name);
    await assert.rejects(readBaseImage(archive, join(dir, `work-${name}`)), badArchive(archive, what), name);
  }
});

test("an archive with a ../ entry is refused and nothing is written outside", async (t) => {
  const dir = await tempDir(t);
  await makeTree(join(dir, "src"), [{ path: "inner/file", file: "ok\n" }]);
  await writeFile(join(dir, "pwn"), "pwned\n");
  const archive = join(dir, "evil.tar");
  // GNU tar keeps the ../ name with -P
  await run("tar", ["-cPf", archive, "-C", join(dir, "src"), "inner/file", "../pwn"]);
  const into = join(dir, "deep", "into");
  await assert.rejects(extractArchive(archive, into), badArchive(archive, /has an entry outside the archive \("\.\.\/pwn"\)/));
  assert.ok(!existsSync(join(dir, "deep", "pwn")));
});

test("a gzip-compressed docker-archive is read like the plain one", async (t) => {
  const dir = await tempDir(t);
  const archive = await dockerArchive(dir);
  const gz = join(dir, "base.tar.gz");
  await writeFile(gz, gzipSync(await readFile(archive)));
  const plain = await readBaseImage(archive, join(dir, "w1"));
  const zipped = await readBaseImage(gz, join(dir, "w2"));
  assert.deepEqual(zipped.layers.map((l) => l.diffId), plain.layers.map((l) => l.diffId));
  assert.equal(zipped.layers.length, 1);
});
