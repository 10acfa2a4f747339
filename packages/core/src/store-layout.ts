import { createHash } from "node:crypto";
import { basename, join } from "node:path";

/**
 * Where everything lives inside a store directory. One place, so that no path is spelled twice.
 * `namespace` is the project's share of a store that several projects use (see projectNamespace): its
 * out-links and job records live under `out/<namespace>/` and `jobs/<namespace>/`.
 */
export class StoreLayout {
  constructor(
    readonly root: string,
    readonly namespace = "",
  ) {}

  get storeDir(): string { return join(this.root, "store"); }
  get metaDir(): string { return join(this.root, "meta"); }
  get logsDir(): string { return join(this.root, "logs"); }
  get locksDir(): string { return join(this.root, "locks"); }
  get tmpDir(): string { return join(this.root, "tmp"); }
  get outDir(): string { return join(this.root, "out"); }
  get jobsDir(): string { return join(this.root, "jobs"); }
  get cacheDir(): string { return join(this.root, "cache"); }

  storePath(hash: string, name: string): string { return join(this.storeDir, `${hash}-${name}`); }
  metaPath(hash: string): string { return join(this.metaDir, `${hash}.json`); }
  logPath(hash: string): string { return join(this.logsDir, `${hash}.log`); }
  lockPath(hash: string): string { return join(this.locksDir, `${hash}.lock`); }
  /** Early cutoff: the store hash last built under a cutoff key (see early-cutoff.ts). */
  cutoffPath(key: string): string { return join(this.cacheDir, "cutoff", key); }
  /** Out-links are flat: `/packages/web/build` → `out/packages%2Fweb%2Fbuild`, unambiguous for any job name. */
  outLink(job: string): string { return join(this.outDir, this.namespace, encodeJob(job)); }
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
