import { realpathSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { BuildGraph } from "./build-graph.js";
import { canonicalPath } from "./canonical-path.js";
import { collectJobs } from "./collect-jobs.js";
import type { EventSink } from "./events.js";
import { findConfig } from "./find-config.js";
import { hashGraph, type HashedNode } from "./hash-graph.js";
import { loadConfig, type LoadedConfig } from "./load-config.js";
import type { MakesNode } from "./makes-node.js";
import { realise, type NodeResult } from "./realise.js";
import { selectJobs } from "./select-jobs.js";
import { SourceListing, projectRelative } from "./source-listing.js";
import { StatCache } from "./stat-cache.js";
import { BlobDigests } from "./blob-digests.js";
import { Store } from "./store.js";
import { projectNamespace } from "./store-layout.js";

export interface ProjectOptions {
  readonly cwd: string;
  readonly configFile?: string | undefined;
  /** --store / MAKES_STORE; default `<project>/.makes`. */
  readonly storeDir?: string | undefined;
  /** The builders' arguments given to makes.ts (makeDerivation, projectPath, inputs, ...). */
  readonly args: object;
  /**
   * Start listing the project's files (git) while makes.ts loads, for a command that will plan: the listing
   * is a child process, and makes.ts's evaluation would otherwise leave it nothing to overlap with.
   */
  readonly prefetchSources?: boolean;
}

export interface Plan {
  readonly jobs: readonly string[];
  readonly roots: readonly MakesNode[];
  readonly graph: BuildGraph;
  readonly nodes: readonly MakesNode[];
  readonly hashes: ReadonlyMap<MakesNode, HashedNode>;
  /** What the user should know about how the plan was made (run emits each once per project as a warning). */
  readonly warnings: readonly string[];
}

export interface RunOptions {
  readonly concurrency: number;
  readonly keepGoing: boolean;
  readonly dryRun: boolean;
  readonly streamLogs: boolean;
  readonly signal: AbortSignal;
  readonly emit: EventSink;
}

export interface RunOutcome {
  readonly plan: Plan;
  readonly results: ReadonlyMap<MakesNode, NodeResult>;
  /** Job → store path, for the jobs that are built or cached. */
  readonly outputs: ReadonlyMap<string, string>;
  readonly failed: boolean;
}

/** A loaded makes.ts with its store: what every command works on. */
export class Project {
  readonly labels = new Map<MakesNode, string>();
  /** The listing started by open (prefetchSources), used by the first plan; later plans list again. */
  #prefetched: SourceListing | undefined;
  /** Plan warnings already emitted: watch mode plans on every save and says each once. */
  readonly #warned = new Set<string>();

  private constructor(
    readonly loaded: LoadedConfig,
    readonly jobs: ReadonlyMap<string, MakesNode>,
    readonly store: Store,
    prefetched: SourceListing | undefined,
  ) {
    this.#prefetched = prefetched;
    for (const [name, node] of jobs) if (!this.labels.has(node)) this.labels.set(node, name);
  }

  static async open(options: ProjectOptions): Promise<Project> {
    const found = findConfig(options.cwd, options.configFile);
    // The project's directory by its real path: esbuild resolves it so, and the paths it reports must
    // match ours when the project was reached through a symlink (`-C link`).
    const projectDir = realpathSync(dirname(found));
    const configPath = join(projectDir, basename(found));
    const storeDir = canonicalPath(options.storeDir === undefined ? join(projectDir, ".makes") : resolve(options.cwd, options.storeDir));
    const storeInProject = (projectRelative(projectDir, storeDir) ?? "") !== "";
    const listing = options.prefetchSources === true ? sourceListingOf(configPath, storeDir) : undefined;
    // A failure reaches the plan, which awaits the same promise; left unobserved until then, it would end the process.
    listing?.all().catch(() => undefined);
    const loaded = await loadConfig(configPath, { cacheDir: storeInProject ? join(storeDir, "cache", "config") : undefined });
    const jobs = await collectJobs(loaded, options.args);
    const namespace = storeInProject ? "" : projectNamespace(projectDir);
    return new Project(loaded, jobs, new Store(storeDir, { namespace, projectDir }), listing);
  }

  get projectDir(): string {
    return this.loaded.projectDir;
  }

  /** Resolves names and globs, collects the closure and hashes every node of it. */
  async plan(patterns: readonly string[]): Promise<Plan> {
    const jobs = selectJobs(patterns, this.jobs.keys());
    const roots = jobs.map((j) => this.jobs.get(j)).filter((n): n is MakesNode => n !== undefined);
    const graph = BuildGraph.collect(roots, this.labels);
    const listing = this.#prefetched ?? sourceListingOf(this.loaded.configPath, this.store.root);
    this.#prefetched = undefined;
    const statCache = new StatCache(join(this.store.layout.cacheDir, "stat-cache.json"));
    const blobs = new BlobDigests(join(this.store.layout.cacheDir, "blob-digests"));
    const hashes = await hashGraph(graph, { projectDir: this.projectDir, listing, statCache, blobs });
    await Promise.all([statCache.save(), blobs.save()]);
    const why = listing.walkBecause;
    const walked = `so the source trees of ${this.projectDir} (a git work tree) are read from disk with the files .gitignore ignores`;
    const warnings =
      why === undefined ? [] : [why === "not-found" ? `git is not on the PATH, ${walked}; install git to leave them out` : `git failed: ${why.failed}, ${walked}; fix what git says to leave them out`];
    return { jobs, roots, graph, nodes: graph.order, hashes, warnings };
  }

  storePathOf(plan: Plan, node: MakesNode): string {
    const hashed = plan.hashes.get(node);
    if (hashed === undefined) throw new Error(`internal: ${node.name} is not in the plan`);
    return this.store.layout.storePath(hashed.hash, node.name);
  }

  async run(plan: Plan, options: RunOptions): Promise<RunOutcome> {
    await this.store.init();
    const started = Date.now();
    options.emit({ type: "run-started", jobs: plan.jobs, total: plan.nodes.length, concurrency: options.concurrency });
    for (const message of plan.warnings) {
      if (this.#warned.has(message)) continue;
      this.#warned.add(message);
      options.emit({ type: "warning", message });
    }
    const results = await realise(plan.graph, plan.nodes, plan.hashes, {
      store: this.store,
      projectDir: this.projectDir,
      concurrency: options.concurrency,
      keepGoing: options.keepGoing,
      dryRun: options.dryRun,
      streamLogs: options.streamLogs,
      signal: options.signal,
      emit: options.emit,
    });
    const outputs = new Map<string, string>();
    for (const [i, job] of plan.jobs.entries()) {
      const root = plan.roots[i];
      if (root === undefined) continue;
      const status = results.get(root)?.status;
      if (status !== "built" && status !== "cached") continue;
      const path = this.storePathOf(plan, root);
      outputs.set(job, path);
      if (options.dryRun) continue;
      // The record is written before the out-link, so an out-link that already points at this path
      // has its record: a fully cached job costs one readlink, not two writes and a closure walk.
      if (await this.store.outLinkIs(job, path)) continue;
      const closure: Record<string, string> = {};
      for (const [node, key] of plan.graph.closureKeys(root)) closure[key] = plan.hashes.get(node)?.hash ?? "";
      await this.store.writeJobRecord({ format: 1, job, hash: plan.hashes.get(root)?.hash ?? "", closure });
      await this.store.setOutLink(job, path);
    }
    let built = 0, cached = 0, failed = 0, skipped = 0;
    const counted = new Set<string>();
    for (const r of results.values()) {
      if (counted.has(r.info.hash)) continue; // one store path, however many nodes describe it
      counted.add(r.info.hash);
      if (r.status === "built") built++;
      else if (r.status === "cached") cached++;
      else if (r.status === "failed") failed++;
      else skipped++;
    }
    await this.store.saveCaches();
    options.emit({ type: "run-finished", built, cached, failed, skipped, durationMs: Date.now() - started });
    return { plan, results, outputs, failed: failed > 0 || (skipped > 0 && !options.dryRun) };
  }

  /** A path relative to the current directory, for messages. */
  shown(path: string): string {
    return relative(process.cwd(), path) || path;
  }
}

/** The project's files, without the store when it is kept inside the project under another name. */
function sourceListingOf(configPath: string, storeRoot: string): SourceListing {
  const projectDir = dirname(configPath);
  const storeRel = projectRelative(projectDir, storeRoot) ?? "";
  return new SourceListing(projectDir, storeRel === "" ? [] : [storeRel], basename(configPath));
}
