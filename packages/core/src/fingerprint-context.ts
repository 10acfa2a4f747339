import type { MakesNode } from "./makes-node.js";

/** What a node may use to compute its fingerprint. */
export interface FingerprintContext {
  /** The project root: source trees are relative to it. */
  readonly projectDir: string;
  /** The job name of a node that is a job, else its name (an image's default name comes from its job). */
  labelOf(node: MakesNode): string;
  /** The hash of a dep (already computed: deps are fingerprinted first). */
  hashOf(node: MakesNode): string;
  /** `text` with every node token replaced by a stand-in made of the dep's hash and name. */
  resolveForHash(text: string): string;
  /** Hashes a file by path with the stat cache (racy-clean rule applies). */
  fileDigest(absPath: string, stat: import("node:fs").Stats): Promise<string>;
  /** Lists the files of a project directory that git does not ignore (or all, outside git). */
  listSourceFiles(relDir: string): Promise<readonly string[]>;
}
