import type { MakesNode } from "./makes-node.js";

/** What a node gets while it builds. */
export interface BuildContext {
  /** Where the output must be created (a temporary path; renamed into the store afterwards). */
  readonly out: string;
  /** A private scratch directory, removed after the build. */
  readonly tmpDir: string;
  readonly projectDir: string;
  /** The store root (for caches that builders keep, such as image layers). */
  readonly storeDir: string;
  readonly hash: string;
  /** A label for messages: the job name when the node is a job, else its name. */
  readonly label: string;
  /** Number of parallel jobs allowed for this run, a hint for builders that parallelise inside. */
  readonly concurrency: number;
  readonly signal: AbortSignal;
  /** The final store path of a dep. */
  storePathOf(node: MakesNode): string;
  /** The recorded content digest of a dep's output (deps are built before this node). */
  contentDigestOf(node: MakesNode): string;
  /** `text` with every node token replaced by that node's store path. */
  resolvePaths(text: string): string;
  /** The build log (kept per store path). */
  log(chunk: string | Buffer): void;
  /** The path of the full log, for messages. */
  readonly logPath: string;
  warn(message: string): void;
  /** Records the sha256 (hex) of a file of the output that the builder wrote and hashed itself (see treeDigest). */
  declareDigest(relPath: string, sha256: string): void;
  /** Counters that tests and `--reporter json` can read (e.g. layer cache hits). */
  stat(name: string, value: number): void;
}
