import { createHash } from "node:crypto";
// Synchronous calls: an output is mostly small entries, each one cheap call, and a promise per call costs
// several times the call (see read-file-chunks.ts); takeTurnIfDue keeps the event loop turning.
import { lstatSync, lutimesSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { BuildError } from "./errors.js";
import { NeedleSearch } from "./needle-search.js";
import { sha256File } from "./stat-cache.js";
import { readFileChunks, takeTurnIfDue } from "./read-file-chunks.js";

/** The fixed mtime of everything in the store: 1970-01-01T00:00:01Z, as Nix and dockerTools use. */
export const STORE_MTIME_SECONDS = 1;

export interface TreeDigest {
  /** sha256 over every entry's relative path, type, mode bits and content digest or link target. */
  readonly digest: string;
  readonly size: number;
  readonly entries: number;
  /** When the root is a file: its sha256 (what a fixed output promises for a file), from the same read. */
  readonly fileDigest?: string;
  /** Each of the `spells` strings (see treeDigest) that a file's content or a symlink's target contains → the first such entry's relative path. */
  readonly spelled: ReadonlyMap<string, string>;
}

/**
 * Digests a store output (file, symlink or directory tree) in a fixed, sorted, depth-first order.
 * With `normalise`, every entry's mtime is set to STORE_MTIME_SECONDS on the way (modes are kept as
 * the builder left them: they become the modes of files in images).
 */
export async function treeDigest(
  root: string,
  options: {
    normalise: boolean;
    /**
     * sha256 of files the builder already knows (relative path → hex), taken instead of reading them: an image
     * builder knows each blob's digest from writing it, and re-reading hundreds of MB of cached layers would
     * cost more than the rebuild. `makes verify` passes none and reads everything.
     */
    known?: ReadonlyMap<string, string> | undefined;
    /**
     * Strings to look for while the files are read anyway (the store's own location, see StoreMeta.spellsRoot).
     * Files in `known` are not read, so not searched: their node says what they hold.
     */
    spells?: readonly string[] | undefined;
  },
): Promise<TreeDigest> {
  const hash = createHash("sha256");
  const spells = options.spells ?? [];
  const spelled = new Map<string, string>();
  let fileDigest: string | undefined;
  let size = 0;
  let entries = 0;
  const visit = async (abs: string, rel: string): Promise<void> => {
    const st = lstatSync(abs);
    entries++;
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(abs);
      for (const needle of spells) if (target.includes(needle) && !spelled.has(needle)) spelled.set(needle, rel);
      hash.update(`l\0${rel}\0${target}\n`);
    } else if (st.isDirectory()) {
      hash.update(`d\0${rel}\0${mode}\n`);
      const names = readdirSync(abs, { encoding: "buffer" }).map((raw) => utf8Name(raw, rel)).sort();
      for (const name of names) await visit(join(abs, name), rel === "" ? name : `${rel}/${name}`);
    } else if (st.isFile()) {
      size += st.size;
      let digest = options.known?.get(rel);
      if (digest === undefined) {
        const read = await digestAndSearch(abs, spells.filter((needle) => !spelled.has(needle)));
        for (const needle of read.found) spelled.set(needle, rel);
        digest = read.digest;
      }
      if (rel === "") fileDigest = digest;
      hash.update(`f\0${rel}\0${mode}\0${st.size}\0${digest}\n`);
    } else {
      hash.update(`o\0${rel}\0${mode}\n`);
    }
    if (options.normalise) lutimesSync(abs, STORE_MTIME_SECONDS, STORE_MTIME_SECONDS);
    await takeTurnIfDue();
  };
  await visit(root, "");
  return { digest: hash.digest("hex"), size, entries, spelled, ...(fileDigest === undefined ? {} : { fileDigest }) };
}

/** A file's sha256 (hex), and which of `needles` it contains, in one read. */
async function digestAndSearch(path: string, needles: readonly string[]): Promise<{ digest: string; found: ReadonlySet<string> }> {
  if (needles.length === 0) return { digest: await sha256File(path), found: new Set() };
  const hash = createHash("sha256");
  const search = new NeedleSearch(needles);
  await readFileChunks(path, (chunk) => {
    hash.update(chunk);
    search.push(chunk);
  });
  return { digest: hash.digest("hex"), found: search.found };
}

/**
 * A directory entry's name as a string. Names that are not valid UTF-8 would be decoded with U+FFFD and then
 * name nothing on disk; the store keeps UTF-8 names only, so such a name is an error that says which one.
 */
function utf8Name(raw: Buffer, dirRel: string): string {
  const name = raw.toString("utf8");
  if (!Buffer.from(name, "utf8").equals(raw)) {
    const shown = JSON.stringify(dirRel === "" ? name : `${dirRel}/${name}`);
    throw new BuildError("bad-output", `the output has a file name that is not valid UTF-8: ${shown} (bytes ${raw.toString("hex")}); makes keeps only UTF-8 names in the store, so rename it in the builder`);
  }
  return name;
}
