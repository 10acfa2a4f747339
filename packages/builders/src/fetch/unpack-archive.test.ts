import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { crc32, gzipSync } from "node:zlib";
import { BuildError } from "@makes/core";
import tarStream from "tar-stream";
import { detectArchiveKind, unpackArchive } from "./unpack-archive.js";

const scratch = mkdtempSync(join(tmpdir(), "makes-unpack-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const fresh = (): string => join(scratch, `t${counter++}`);

interface Entry {
  readonly name: string;
  readonly type?: "file" | "directory" | "symlink";
  readonly content?: string;
  readonly mode?: number;
  readonly target?: string;
}

/** An uncompressed tar made with tar-stream (so names GNU tar would refuse to write, like `../x`, are possible). */
async function makeTar(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    const type = e.type ?? "file";
    const header = { name: e.name, type, mode: e.mode ?? (type === "file" ? 0o644 : 0o755), mtime: new Date(0), ...(e.target ? { linkname: e.target } : {}) };
    if (type === "file") pack.entry(header, e.content ?? "");
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A zip with stored (uncompressed) entries; Unix modes in the external attributes, as Info-ZIP writes them. */
function makeZip(entries: readonly Entry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const type = e.type ?? "file";
    const name = Buffer.from(type === "directory" && !e.name.endsWith("/") ? `${e.name}/` : e.name);
    const data = Buffer.from(type === "symlink" ? (e.target ?? "") : (e.content ?? ""));
    const kindBits = type === "directory" ? 0o040000 : type === "symlink" ? 0o120000 : 0o100000;
    const mode = kindBits | (e.mode ?? (type === "file" ? 0o644 : 0o755));
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 30, 4); // made by Unix
    central.writeUInt16LE(10, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const project: Entry[] = [
  { name: "proj-1.0/", type: "directory" },
  { name: "proj-1.0/bin/", type: "directory" },
  { name: "proj-1.0/bin/run", content: "#!/bin/sh\necho run\n", mode: 0o755 },
  { name: "proj-1.0/README", content: "read me\n" },
  { name: "proj-1.0/readme-link", type: "symlink", target: "README" },
];

function write(name: string, data: Buffer): string {
  const file = join(fresh(), name);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, data);
  return file;
}

function assertProject(dest: string): void {
  assert.deepEqual(readdirSync(dest).sort(), ["README", "bin", "readme-link"]);
  assert.equal(readFileSync(join(dest, "bin/run"), "utf8"), "#!/bin/sh\necho run\n");
  assert.equal(lstatSync(join(dest, "bin/run")).mode & 0o777, 0o755);
  assert.equal(readlinkSync(join(dest, "readme-link")), "README");
}

describe("unpackArchive", () => {
  test("tar.gz detected by magic bytes (no extension), single top-level directory stripped", async () => {
    const file = write("download", gzipSync(await makeTar(project)));
    assert.equal(await detectArchiveKind(file), "tar.gz");
    const dest = join(fresh(), "out");
    const result = await unpackArchive(file, dest);
    assert.deepEqual(result, { kind: "tar.gz", strippedRoot: "proj-1.0" });
    assertProject(dest);
    assert.deepEqual(readdirSync(join(dest, "..")), ["out"], "no temporary directory left");
  });

  test("a plain tar with several top-level entries is not stripped", async () => {
    const file = write("two.tar", await makeTar([{ name: "a", content: "a" }, { name: "b/c", content: "c" }]));
    const dest = join(fresh(), "out");
    assert.deepEqual(await unpackArchive(file, dest), { kind: "tar", strippedRoot: undefined });
    assert.deepEqual(readdirSync(dest).sort(), ["a", "b"]);
  });

  test("a single top-level file is not stripped", async () => {
    const file = write("one.tar.gz", gzipSync(await makeTar([{ name: "only.txt", content: "x" }])));
    const dest = join(fresh(), "out");
    assert.equal((await unpackArchive(file, dest)).strippedRoot, undefined);
    assert.equal(readFileSync(join(dest, "only.txt"), "utf8"), "x");
  });

  test("tar.xz", async () => {
    const src = fresh();
    mkdirSync(join(src, "pkg-2"), { recursive: true });
    writeFileSync(join(src, "pkg-2", "f"), "xz!");
    const file = join(fresh(), "pkg.tar.xz");
    mkdirSync(join(file, ".."));
    execFileSync("tar", ["-cJf", file, "-C", src, "pkg-2"]);
    const dest = join(fresh(), "out");
    assert.deepEqual(await unpackArchive(file, dest), { kind: "tar.xz", strippedRoot: "pkg-2" });
    assert.equal(readFileSync(join(dest, "f"), "utf8"), "xz!");
  });

  test("zip: detected by magic bytes, modes and symlinks kept, single top-level directory stripped", async () => {
    const file = write("archive.bin", makeZip(project));
    const dest = join(fresh(), "out");
    assert.deepEqual(await unpackArchive(file, dest), { kind: "zip", strippedRoot: "proj-1.0" });
    assertProject(dest);
  });

  test("a tar entry escaping the destination rejects the archive and writes nothing", async () => {
    const dir = fresh();
    const file = write("evil.tar.gz", gzipSync(await makeTar([{ name: "ok", content: "ok" }, { name: "../evil", content: "evil" }])));
    const dest = join(dir, "out");
    await assert.rejects(
      unpackArchive(file, dest),
      (err: unknown) => err instanceof BuildError && err.reason === "bad-output" && /entry "\.\.\/evil" would be written outside the destination/.test(err.message),
    );
    assert.ok(!existsSync(dest));
    assert.ok(!existsSync(join(dir, "evil")));
  });

  test("an absolute tar entry is rejected", async () => {
    const file = write("abs.tar", await makeTar([{ name: "/tmp/makes-absolute-evil", content: "evil" }]));
    await assert.rejects(unpackArchive(file, join(fresh(), "out")), /would be written outside the destination/);
  });

  test("zip entries escaping the destination, directly or through a symlink, are rejected", async () => {
    const up = write("up.zip", makeZip([{ name: "../evil", content: "evil" }]));
    await assert.rejects(unpackArchive(up, join(fresh(), "out")), /entry "\.\.\/evil" would be written outside/);
    const through = write(
      "through.zip",
      makeZip([
        { name: "link", type: "symlink", target: "/tmp" },
        { name: "link/evil", content: "evil" },
      ]),
    );
    await assert.rejects(unpackArchive(through, join(fresh(), "out")), /entry "link\/evil" lies below the symlink entry "link"/);
  });

  test("a file that is not an archive", async () => {
    const file = write("notes.txt", Buffer.from("just text"));
    await assert.rejects(unpackArchive(file, join(fresh(), "out")), (err: unknown) => err instanceof BuildError && /not a \.tar.*archive/.test(err.message));
  });

  test("a corrupt archive names the tool's complaint", async () => {
    const file = write("broken.tar.gz", Buffer.concat([gzipSync(await makeTar(project)).subarray(0, 40)]));
    const dest = join(fresh(), "out");
    await assert.rejects(unpackArchive(file, dest), (err: unknown) => err instanceof BuildError && /tar could not read the archive/.test(err.message));
    assert.ok(!existsSync(dest));
  });
});
