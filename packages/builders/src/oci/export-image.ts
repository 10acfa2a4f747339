import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { UsageError } from "@makes/core";

export type ExportFormat = "oci-archive" | "docker-archive";

const MTIME = new Date(1000);
const TOP_FILES = ["oci-layout", "index.json", "manifest.json"] as const;

/**
 * Writes the image layout at `layoutDir` (as writeImage leaves it) as ONE tar to `out`. The layout is already
 * both an OCI layout and a docker-archive, so both formats are the same dual tar (as Docker ≥ 25 `docker save`):
 * `skopeo inspect oci-archive:FILE` and `docker-archive:FILE` both read it. Deterministic: sorted entries,
 * fixed mtime, 0:0. Blob contents are streamed, never held in memory.
 * Rejects with the output's error (ENOSPC, EPIPE, …) when writing `out` fails, once, and stops reading then.
 */
export async function exportImage(layoutDir: string, format: ExportFormat, out: NodeJS.WritableStream): Promise<void> {
  void format; // both formats are the dual tar; the parameter keeps the call sites explicit
  for (const name of TOP_FILES) {
    try {
      await stat(join(layoutDir, name));
    } catch {
      throw new UsageError("not-an-image", `${layoutDir} is not an image written by makes: it has no ${name}`);
    }
  }
  const blobs = (await readdir(join(layoutDir, "blobs", "sha256"))).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
  // Imported here: the builders' index re-exports exportImage, and every run would otherwise load tar-stream.
  const { default: tar } = await import("tar-stream");
  const pack = tar.pack();
  const written = pipeline(pack as unknown as NodeJS.ReadableStream, out); // streamx Readable is pipe-compatible
  // The output can fail at any time (a full disk, a reader that went away): that rejection is the cause of
  // whatever else fails then, so every step races it, and it is never left unhandled.
  written.catch(() => undefined);
  const outputFailed = written.then(() => new Promise<never>(() => undefined));
  const step = <T>(p: Promise<T>): Promise<T> => Promise.race([p, outputFailed]);
  const header = { uid: 0, gid: 0, uname: "", gname: "", mtime: MTIME };
  const addFile = async (name: string, path: string): Promise<void> => {
    const { size } = await stat(path);
    await step(
      new Promise<void>((resolve, reject) => {
        const sink = pack.entry({ ...header, name, type: "file", mode: 0o100644, size }, (err) => (err ? reject(err) : resolve()));
        // a destroyed pack (the output failed) errors the entry's sink: that is reported once, through `written`
        const source = createReadStream(path).on("error", reject);
        sink.on("error", (err: Error) => {
          source.destroy();
          reject(err);
        });
        source.pipe(sink as unknown as NodeJS.WritableStream);
      }),
    );
  };
  const addDir = (name: string): Promise<void> =>
    step(
      new Promise((resolve, reject) => {
        pack.entry({ ...header, name, type: "directory", mode: 0o40755 }, (err) => (err ? reject(err) : resolve()));
      }),
    );
  try {
    await addDir("blobs/");
    await addDir("blobs/sha256/");
    for (const hex of blobs) await addFile(`blobs/sha256/${hex}`, join(layoutDir, "blobs", "sha256", hex));
    for (const name of [...TOP_FILES].sort()) await addFile(name, join(layoutDir, name));
    pack.finalize();
  } catch (err) {
    pack.destroy(err instanceof Error ? err : new Error(String(err)));
    // the output's own error first: a full disk also makes the current entry fail, as "destroyed"
    await written;
    throw err;
  }
  await written;
}
