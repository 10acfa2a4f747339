import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { BuildError, MakesError, storeErrorFrom, makeDirs } from "@makes/core";

/**
 * Extracts the regular files of an image archive (oci-archive or docker-archive tar, optionally gzip-compressed)
 * under `into`, streaming. Names with `..` and absolute names reject the archive, links are skipped: an archive
 * can never write outside `into`.
 * Every way the archive can be bad — not a tar, cut short, an entry outside it, a damaged gzip — is one
 * BuildError naming the archive and what is wrong; a full disk while extracting is the store's StoreError.
 */
export async function extractArchive(archive: string, into: string): Promise<void> {
  const gzip = await isGzip(archive);
  const extract = tar.extract();
  const source = createReadStream(archive);
  // streamx's Writable is pipe-compatible
  const read = gzip ? pipeline(source, createGunzip(), extract as unknown as NodeJS.WritableStream) : pipeline(source, extract as unknown as NodeJS.WritableStream);
  // Awaited after the entries: its rejection (the same error the loop sees, or a premature close once the loop
  // stops early) must not be unhandled meanwhile.
  read.catch(() => undefined);
  let entries = 0;
  let last: string | undefined;
  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^(\.\/)+/, "");
      entries++;
      last = name;
      if (entry.header.type !== "file" && entry.header.type !== "contiguous-file") {
        entry.resume();
        continue;
      }
      if (name.startsWith("/") || name.split("/").includes("..")) {
        throw bad(archive, `has an entry outside the archive (${JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name)}); it is not a usable image archive`);
      }
      const target = join(into, name);
      try {
        await makeDirs(dirname(target));
        const out = createWriteStream(target);
        try {
          // An entry stream that the extractor destroyed before the pipe started (the archive ended inside
          // the entry, all in one chunk) never ends nor errors for Node's pipeline: the extractor's own
          // failure, which `read` carries, ends the wait instead.
          await Promise.race([pipeline(entry as unknown as NodeJS.ReadableStream, out), read.then(() => new Promise<never>(() => undefined))]);
        } finally {
          out.destroy();
        }
      } catch (err) {
        if (err instanceof MakesError) throw err;
        const mapped = storeErrorFrom(err, `extracting the fromImage archive ${archive}`);
        if (mapped instanceof MakesError) throw mapped;
        // a read error of the archive surfaces here too, through the entry's stream
        throw readFailure(archive, err, gzip, entries, last);
      }
    }
    await read;
  } catch (err) {
    extract.destroy();
    source.destroy();
    if (err instanceof MakesError) throw err;
    throw readFailure(archive, err, gzip, entries, last);
  }
  if (entries === 0) throw bad(archive, "is an empty archive; export the base image again (skopeo copy … oci-archive:FILE or docker save -o FILE)");
}

async function isGzip(archive: string): Promise<boolean> {
  const handle = await open(archive, "r").catch((err: unknown) => {
    throw bad(archive, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  });
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** What a failure while reading the archive means for the user: not a tar, cut short, or damaged. */
function readFailure(archive: string, err: unknown, gzip: boolean, entries: number, last: string | undefined): BuildError {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? "";
  const redo = "export the base image again (skopeo copy … oci-archive:FILE or docker save -o FILE)";
  if (code.startsWith("Z_") || /incorrect header check|unexpected end of file|unknown compression method|invalid (block|distance|stored|code)/i.test(message)) {
    return bad(archive, gzip && /unexpected end of file/i.test(message) ? `is a gzip file cut short; ${redo}` : `is a damaged gzip file (${message}); ${redo}`);
  }
  if (code === "EISDIR" || code === "ENOTDIR" || code === "EEXIST") {
    return bad(archive, `has entries that clash with each other (${last ?? "?"}: ${code}); it is not a usable image archive`);
  }
  if (/Unexpected end of data/i.test(message)) {
    return entries === 0 ? bad(archive, `is not a tar archive (${gzip ? "what the gzip file holds is" : "it is"} too short for one); ${redo}`) : bad(archive, `is truncated: it ends inside its entry ${JSON.stringify(last ?? "")} (after ${entries} entries); ${redo}`);
  }
  if (/Invalid tar header/i.test(message)) {
    return entries === 0 ? bad(archive, `is not a tar archive (no valid tar header at its start${gzip ? " once gunzipped" : ""}); ${redo}`) : bad(archive, `is damaged: an invalid tar header after its entry ${JSON.stringify(last ?? "")}; ${redo}`);
  }
  return bad(archive, `cannot be read as a tar archive (${message}); ${redo}`);
}

function bad(archive: string, what: string): BuildError {
  return new BuildError("bad-output", `makeContainerImage: fromImage ${archive} ${what}`);
}
