import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileChunks, WHOLE_FILE_BYTES } from "./read-file-chunks.js";

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "makes-read-chunks-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function bytesOf(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await readFileChunks(path, (c) => chunks.push(Buffer.from(c)));
  return Buffer.concat(chunks);
}

test("small and large files (whole read, stream) come back byte for byte", async (t) => {
  const dir = await scratch(t);
  for (const size of [0, 1, WHOLE_FILE_BYTES, WHOLE_FILE_BYTES + 1, 3 * WHOLE_FILE_BYTES + 7]) {
    const bytes = randomBytes(size);
    await writeFile(join(dir, `f${size}`), bytes);
    assert.ok((await bytesOf(join(dir, `f${size}`))).equals(bytes), `size ${size}`);
  }
});

// Hashing a tree whose file became a FIFO since it was listed used to wait for a writer forever, and
// Ctrl-C could not end it (the read held a worker thread).
test("a FIFO (or a directory) where a file was listed is ENOENT at once, not a read that waits for a writer", { timeout: 10_000 }, async (t) => {
  const dir = await scratch(t);
  execFileSync("mkfifo", [join(dir, "fifo")]);
  await assert.rejects(bytesOf(join(dir, "fifo")), { code: "ENOENT" });
  await assert.rejects(bytesOf(dir), { code: "ENOENT" });
});
