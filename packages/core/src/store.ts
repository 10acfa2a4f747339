import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { access, readFile, readdir, readlink, rename, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { decodeJob, NAMESPACE_OWNER, StoreLayout } from "./store-layout.js";
import type { JobRecord, StoreMeta } from "./store-meta.js";
import { acquireLock } from "./store-lock.js";
import { storeErrorFrom } from "./errors.js";
import { processAlive } from "./process-alive.js";
import { AtHomeCache } from "./at-home-cache.js";
import { writeFileAtomic } from "./write-file-atomic.js";
import { makeDirs } from "./make-dirs.js";

export { writeFileAtomic };

/** The content-addressed store: outputs, their metadata, logs, locks and out-links. */
export class Store {
  readonly layout: StoreLayout;

  constructor(
    readonly root: string,
    options: { namespace?: string; projectDir?: string } = {},
  ) {
    this.layout = new StoreLayout(root, options.namespace);
    this.#projectDir = options.projectDir;
    this.#atHome = new AtHomeCache(join(this.layout.cacheDir, "at-home.json"), root);
  }

  readonly #projectDir: string | undefined;
  readonly #atHome: AtHomeCache;

  async init(): Promise<void> {
    const l = this.layout;
    try {
      await Promise.all([l.storeDir, l.metaDir, l.logsDir, l.locksDir, l.tmpDir, l.outDir, l.jobsDir, l.cacheDir].map((d) => makeDirs(d)));
    } catch (err) {
      throw storeErrorFrom(err, `creating the store at ${this.root}`);
    }
    await this.removeStaleTemp();
  }

  /**
   * Temporary build directories are named `<label>-<pid>-<random>`; those of processes that are gone
   * (killed mid-build) are removed, so a crash leaves nothing behind for long. Likewise a lock's temporary file.
   */
  async removeStaleTemp(): Promise<void> {
    const entries = await readdir(this.layout.tmpDir).catch(() => [] as string[]);
    await Promise.all(
      entries.map(async (entry) => {
        const pid = Number(entry.split("-").at(-2));
        if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) return;
        await rm(join(this.layout.tmpDir, entry), { recursive: true, force: true }).catch(() => undefined);
      }),
    );
    // A lock is written as `<hash>.lock.<pid>.<random>.tmp` and then linked into place; a process killed in
    // between leaves that file, which nothing reads: remove those of dead processes too.
    const lockFiles = await readdir(this.layout.locksDir).catch(() => [] as string[]);
    await Promise.all(
      lockFiles.map(async (file) => {
        if (!file.endsWith(".tmp")) return;
        const pid = Number(file.split(".").at(-3));
        if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) return;
        await rm(join(this.layout.locksDir, file), { force: true }).catch(() => undefined);
      }),
    );
  }

  async readMeta(hash: string): Promise<StoreMeta | undefined> {
    try {
      return JSON.parse(await readFile(this.layout.metaPath(hash), "utf8")) as StoreMeta;
    } catch {
      return undefined;
    }
  }

  readMetaSync(hash: string): StoreMeta | undefined {
    try {
      return JSON.parse(readFileSync(this.layout.metaPath(hash), "utf8")) as StoreMeta;
    } catch {
      return undefined;
    }
  }

  /**
   * Valid: the metadata exists (written last), the path was built in this store or spells no store location
   * (see StoreMeta.spellsRoot), AND the output is still there. Synchronous inside: a
   * fully cached run asks this of every node, and a small read and an lstat cost less than the
   * promise machinery around them.
   */
  async validMeta(hash: string, name: string): Promise<StoreMeta | undefined> {
    return this.validMetaSync(hash, name);
  }

  validMetaSync(hash: string, name: string): StoreMeta | undefined {
    const meta = this.readMetaSync(hash);
    if (meta === undefined || !this.atHome(meta)) return undefined;
    if (lstatSync(this.layout.storePath(hash, name), { throwIfNoEntry: false }) === undefined) return undefined;
    this.#atHome.add(hash);
    return meta;
  }

  /**
   * validMeta without the metadata, for a run's check of every node: a path whose metadata was found at home
   * before (AtHomeCache) needs only its metadata and output to exist, two syscalls instead of reading and
   * parsing a file.
   */
  isValid(hash: string, name: string): boolean {
    if (!this.#atHome.has(hash)) return this.validMetaSync(hash, name) !== undefined;
    return existsSync(this.layout.metaPath(hash)) && lstatSync(this.layout.storePath(hash, name), { throwIfNoEntry: false }) !== undefined;
  }

  /** Saves what this run learned of the store (AtHomeCache); called when a run ends. */
  saveCaches(): Promise<void> {
    return this.#atHome.save();
  }

  /**
   * What an output must not contain to stay valid when this store is moved: the store's own location as the
   * builders saw it (`${dep}` and `$out` are absolute paths under it).
   */
  get locationNeedle(): string {
    return `${this.layout.storeDir}/`;
  }

  /** Whether a path built with `meta` may be used in this store: it was built here, or spells no store location. */
  atHome(meta: StoreMeta): boolean {
    return meta.root === undefined || meta.root === this.root || meta.spellsRoot === false;
  }

  /** A fresh directory under the store's tmp/ (same file system, so a rename installs it). */
  async makeTempDir(label: string): Promise<string> {
    const dir = join(this.layout.tmpDir, `${label}-${process.pid}-${randomBytes(6).toString("hex")}`);
    try {
      await makeDirs(dir);
    } catch (err) {
      throw storeErrorFrom(err, "creating a build directory in the store");
    }
    return dir;
  }

  lock(hash: string, name: string, signal?: AbortSignal): Promise<(() => Promise<void>) | "done"> {
    return acquireLock(this.layout.lockPath(hash), {
      signal,
      isDone: async () => (await this.validMeta(hash, name)) !== undefined,
    });
  }

  /** Moves a finished output into place and then writes its metadata (which makes it valid). */
  async install(tmpOut: string, meta: StoreMeta): Promise<string> {
    const final = this.layout.storePath(meta.hash, meta.name);
    if ((await this.validMeta(meta.hash, meta.name)) !== undefined) {
      // Another process built it meanwhile (two waiters on one dead owner's lock): keep the valid one,
      // which a reader may be using, and drop ours.
      await rm(tmpOut, { recursive: true, force: true });
      return final;
    }
    try {
      // A path without metadata is the leftover of a crashed build; we hold the lock, so replace it.
      await rm(final, { recursive: true, force: true });
      await rename(tmpOut, final);
    } catch (err) {
      throw storeErrorFrom(err, `installing ${final}`);
    }
    await writeFileAtomic(this.layout.metaPath(meta.hash), JSON.stringify(meta));
    return final;
  }

  async setOutLink(job: string, target: string): Promise<void> {
    const link = this.layout.outLink(job);
    const tmp = `${link}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await makeDirs(dirname(link));
      if (this.layout.namespace !== "" && this.#projectDir !== undefined && !existsSync(this.layout.namespaceOwner)) {
        await writeFileAtomic(this.layout.namespaceOwner, this.#projectDir);
      }
      await symlink(this.layout.outLinkText(target), tmp);
      await rename(tmp, link);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw storeErrorFrom(err, `writing the out-link ${link}`);
    }
  }

  /** Whether the out-link of `job` exists and points at `target` (synchronous: asked once per job of every run). */
  async outLinkIs(job: string, target: string): Promise<boolean> {
    const link = this.layout.outLink(job);
    try {
      return readlinkSync(link) === this.layout.outLinkText(target);
    } catch {
      return false;
    }
  }

  /**
   * Every out-link of every project using this store, the roots of `makes gc`: its namespace ("" for a store
   * inside its project), its job and the store path's name it points to. A namespace whose project directory is
   * gone (moved or deleted) roots nothing any more, as Nix drops an auto root whose link has gone; with `prune`,
   * its out-links and job records are removed.
   */
  async outLinks(options: { prune?: boolean } = {}): Promise<Array<{ namespace: string; job: string; target: string }>> {
    const links: Array<{ namespace: string; job: string; target: string }> = [];
    const visit = async (dir: string, namespace: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (entry.name.endsWith(".tmp") || entry.name === NAMESPACE_OWNER) continue;
        const path = join(dir, entry.name);
        if (entry.isSymbolicLink()) {
          const target = await readlink(path).catch(() => undefined);
          if (target !== undefined) links.push({ namespace, job: decodeJob(entry.name), target: target.split("/").pop() ?? "" });
        } else if (entry.isDirectory() && namespace === "") {
          const owner = await readFile(join(path, NAMESPACE_OWNER), "utf8").catch(() => undefined);
          if (owner !== undefined && !existsSync(owner)) {
            if (options.prune === true) {
              await rm(join(this.layout.jobsDir, entry.name), { recursive: true, force: true });
              await rm(path, { recursive: true, force: true });
            }
            continue;
          }
          await visit(path, entry.name);
        }
      }
    };
    await visit(this.layout.outDir, "");
    return links;
  }

  /** The jobs of this project (this store's namespace) that have an out-link. */
  async ownOutLinks(): Promise<string[]> {
    const dir = join(this.layout.outDir, this.layout.namespace);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isSymbolicLink() && !e.name.endsWith(".tmp")).map((e) => decodeJob(e.name)).sort();
  }

  /** Removes a job's out-link and then its record (as they are written the other way round, an out-link always has its record). */
  async removeOutLink(job: string): Promise<void> {
    await rm(this.layout.outLink(job), { force: true });
    await rm(this.layout.jobRecord(job), { force: true });
  }

  async writeJobRecord(record: JobRecord): Promise<void> {
    await writeFileAtomic(this.layout.jobRecord(record.job), JSON.stringify(record));
  }

  async readJobRecord(job: string): Promise<JobRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.layout.jobRecord(job), "utf8")) as JobRecord;
    } catch {
      return undefined;
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await access(path);
      return true;
    } catch {
      return false;
    }
  }
}
