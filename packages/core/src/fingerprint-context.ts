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
  /** Hashes a file by path with the stat cache (racy-clean rule applies); the project-relative path lets the blob digests learn it. */
  fileDigest(absPath: string, stat: import("node:fs").Stats, projectRelPath: string): Promise<string>;
  /**
   * The files of a project directory that git does not ignore (or all, outside git), relative to it. A file
   * git vouches is unchanged and whose blob was digested before comes with its mode and sha256, known without
   * a syscall; the others are to be lstat'ed and given to fileDigest.
   */
  listSourceFiles(relDir: string): Promise<readonly ListedFile[]>;
  /** listSourceFiles once the listing is in (undefined before): for fingerprintSync. */
  listSourceFilesSync(relDir: string): readonly ListedFile[] | undefined;
}

export interface ListedFile {
  readonly path: string;
  readonly mode?: 0o644 | 0o755;
  readonly digest?: string;
}
