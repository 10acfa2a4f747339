import { createHash } from "node:crypto";
import { basename, join, relative } from "node:path";

/**
 * Where everything lives inside a store directory. One place, so that no path is spelled twice.
 * `namespace` is the project's share of a store that several projects use (see projectNamespace): its
 * out-links and job records live under `out/<namespace>/` and `jobs/<namespace>/`.
 */
export class StoreLayout {
  // Fields, not getters: a run asks for thousands of paths under them, and path.join normalises every time.
  readonly storeDir: string;
  readonly metaDir: string;
  readonly logsDir: string;
  readonly locksDir: string;
  readonly tmpDir: string;
  readonly outDir: string;
  readonly jobsDir: string;
  readonly cacheDir: string;

  constructor(
    readonly root: string,
    readonly namespace = "",
  ) {
    this.storeDir = join(root, "store");
    this.metaDir = join(root, "meta");
    this.logsDir = join(root, "logs");
    this.locksDir = join(root, "locks");
    this.tmpDir = join(root, "tmp");
    this.outDir = join(root, "out");
    this.jobsDir = join(root, "jobs");
    this.cacheDir = join(root, "cache");
  }

  // Hashes are base-32 and names keep to store characters (sanitiseName, checkName): no separator to normalise.
  storePath(hash: string, name: string): string { return `${this.storeDir}/${hash}-${name}`; }
  metaPath(hash: string): string { return `${this.metaDir}/${hash}.json`; }
  logPath(hash: string): string { return join(this.logsDir, `${hash}.log`); }
  lockPath(hash: string): string { return join(this.locksDir, `${hash}.lock`); }
  /** Early cutoff: the store hash last built under a cutoff key (see early-cutoff.ts). */
  cutoffPath(key: string): string { return join(this.cacheDir, "cutoff", key); }
  /** Out-links are flat: `/packages/web/build` → `out/packages%2Fweb%2Fbuild`, unambiguous for any job name. */
  outLink(job: string): string { return join(this.outDir, this.namespace, encodeJob(job)); }

  #storeFromOutLinks: string | undefined;

  /** What an out-link to `target` holds: the path relative to the out-link's directory, so a moved store keeps working. */
  outLinkText(target: string): string {
    const linkDir = join(this.outDir, this.namespace);
    // Asked once per job of every run: the store's own relative spelling is worked out once.
    if (target.startsWith(`${this.storeDir}/`)) {
      this.#storeFromOutLinks ??= relative(linkDir, this.storeDir);
      return `${this.#storeFromOutLinks}/${target.slice(this.storeDir.length + 1)}`;
    }
    return relative(linkDir, target);
  }
  jobRecord(job: string): string { return join(this.jobsDir, this.namespace, `${encodeJob(job)}.json`); }
  /** In a namespace: the file that names the project directory it belongs to (for `makes gc`). */
  get namespaceOwner(): string { return join(this.outDir, this.namespace, NAMESPACE_OWNER); }
}

/** Inside `out/<namespace>/`: the absolute directory of the project whose out-links these are. */
export const NAMESPACE_OWNER = ".project";

/**
 * The namespace of a project in a store outside it (`--store`, `MAKES_STORE` shared by several projects, as
 * Bazel keys its output base by the workspace's path): readable, and unique per project directory. A store
 * inside the project (the default `.makes`) has none: it moves with the project and keeps its out-links.
 */
export function projectNamespace(projectDir: string): string {
  const readable = basename(projectDir).replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 40) || "project";
  return `${readable}-${createHash("sha256").update(projectDir).digest("hex").slice(0, 12)}`;
}

export function encodeJob(job: string): string {
  return encodeURIComponent(job.replace(/^\//, ""));
}

export function decodeJob(encoded: string): string {
  return `/${decodeURIComponent(encoded)}`;
}
