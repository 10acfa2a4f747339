import { createReadStream, createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { BuildError } from "@makes/core";

/**
 * Extracts the regular files of an image archive (oci-archive or docker-archive tar) under `into`, streaming.
 * Names with `..`, absolute names and links are refused or skipped: an archive can never write outside `into`.
 */
export async function extractArchive(archive: string, into: string): Promise<void> {
  const extract = tar.extract();
  const done = pipeline(createReadStream(archive), extract as unknown as NodeJS.WritableStream); // streamx is pipe-compatible
  for await (const entry of extract) {
    const name = entry.header.name.replace(/^\.\//, "");
    if (entry.header.type !== "file" && entry.header.type !== "contiguous-file") {
      entry.resume();
      continue;
    }
    if (name.startsWith("/") || name.split("/").includes("..")) {
      throw new BuildError("bad-output", `${archive} has an entry outside the archive (${name}); it is not a usable image archive`);
    }
    const target = join(into, name);
    await mkdir(dirname(target), { recursive: true });
    await pipeline(entry as unknown as NodeJS.ReadableStream, createWriteStream(target));
  }
  await done;
}
