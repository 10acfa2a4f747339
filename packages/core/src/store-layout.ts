import { join } from "node:path";

/** Where everything lives inside a store directory. One place, so that no path is spelled twice. */
export class StoreLayout {
  constructor(readonly root: string) {}

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
  outLink(job: string): string { return join(this.outDir, encodeJob(job)); }
  jobRecord(job: string): string { return join(this.jobsDir, `${encodeJob(job)}.json`); }
}

export function encodeJob(job: string): string {
  return encodeURIComponent(job.replace(/^\//, ""));
}

export function decodeJob(encoded: string): string {
  return `/${decodeURIComponent(encoded)}`;
}
