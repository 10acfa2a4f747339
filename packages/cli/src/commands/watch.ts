import { existsSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { findConfig, MakesError, UsageError, type Plan, type Project } from "@makes/core";
import { watch, type FSWatcher } from "chokidar";
import { concurrencyOf, storeOption } from "../global-options.js";
import { interruptExitCode, interruptSignal } from "../interrupt.js";
import { cwdOf, openProject } from "../open-project.js";
import { createReporter } from "../reporters/create-reporter.js";
import type { Reporter } from "../reporters/reporter.js";
import { plural } from "../plural.js";
import { closureTreesOf, describeChanges, ignoredPath, isInside, sourceTreesOf } from "../watch-paths.js";
import { IterationQueue } from "../watch-queue.js";
import { watchRoots, type WatchRoots } from "../watch-roots.js";
import { ScriptSupervisor } from "../watch-scripts.js";
import type { RunArgs } from "./run.js";

/**
 * Rebuilds in a row started only by files that changed while the previous one was building, after which
 * watching pauses: three, so that a job that writes once or twice (a generated file that then stays the
 * same) never trips it.
 */
const SELF_TRIGGER_LIMIT = 3;

/**
 * `makes run --watch <jobs...>`: build, then rebuild whenever makes.ts, a file it imports or a source
 * tree of the jobs' closure changes, until Ctrl-C (exit 130; SIGTERM 143). Each iteration reloads the config when a
 * config file changed, re-hashes the closure and, only if a hash changed, runs it (the engine builds
 * just the nodes whose store path is missing), prints the output paths and restarts script jobs.
 * Errors — a broken makes.ts, a failed build — are reported and watching goes on. --dry-run is refused:
 * it says what one run would build, and watching is about building on every change.
 */
export async function watchCommand(args: RunArgs): Promise<number> {
  const reporter = createReporter(args.reporter, { dryRun: false });
  let configPath: string;
  try {
    if (args.dryRun) throw new UsageError("bad-flag", "--watch and --dry-run cannot be combined: --dry-run shows what one run would build, --watch builds on every change; drop one of them");
    concurrencyOf(args); // a bad -j is a usage error now, not at every iteration
    configPath = findConfig(cwdOf(args), args.config);
  } catch (err) {
    // Through the reporter, as `makes run` does: `--reporter json` stays one JSON object per line.
    if (!(err instanceof MakesError)) throw err;
    reporter.error(err.message, err.detail);
    return err.exitCode;
  }
  const { signal, dispose } = interruptSignal();
  const session = new WatchSession(args, configPath, reporter, signal);
  try {
    return await session.run();
  } finally {
    await session.close();
    reporter.close();
    dispose();
  }
}

class WatchSession {
  readonly #projectDir: string;
  readonly #storeRoot: string;
  readonly #folderJobsDir: string;
  readonly #queue: IterationQueue;
  readonly #scripts: ScriptSupervisor;
  #project: Project | undefined;
  /** Config files of the last successful load (or just makes.ts, and the file an error named). */
  #configFiles = new Set<string>();
  /** The closure's source trees; `files` is undefined when the last plan failed (nothing was hashed). */
  #trees: { trees: string[]; files: number | undefined } = { trees: [], files: 0 };
  #watcher: FSWatcher | undefined;
  #watched: WatchRoots | undefined;
  /** A path the watcher was pointed at was deleted: chokidar no longer watches it, even once it is back. */
  #watcherStale = false;
  /** The jobs and closure hashes of the last run: an iteration whose plan has the same is skipped. */
  #lastRunKey: string | undefined;
  #firstDone = false;
  #resolveFirst: (result: "ok" | "usage-error") => void = () => undefined;
  #building = false;
  #changedWhileBuilding = new Set<string>();
  #selfTriggerStreak = 0;
  /** MAKES_DEBUG_WATCH=1: print every file event (to see what keeps triggering rebuilds). */
  readonly #trace = process.env.MAKES_DEBUG_WATCH === "1";

  constructor(
    private readonly args: RunArgs,
    private readonly configPath: string,
    private readonly reporter: Reporter,
    private readonly signal: AbortSignal,
  ) {
    this.#projectDir = dirname(configPath);
    const store = storeOption(args);
    this.#storeRoot = store === undefined ? join(this.#projectDir, ".makes") : resolve(cwdOf(args), store);
    this.#folderJobsDir = join(this.#projectDir, "makes");
    this.#configFiles.add(configPath);
    this.#queue = new IterationQueue((changed) => this.#iterate(changed), undefined, (err) => this.#internalError(err));
    this.#scripts = new ScriptSupervisor(args.scriptArgs, (m) => this.reporter.info(m));
  }

  /** The first iteration, then watching until interrupted. Returns the exit code. */
  async run(): Promise<number> {
    // The watchers' handles do not keep the process alive (see #updateWatcher): this timer does.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      const first = new Promise<"ok" | "usage-error">((resolve) => (this.#resolveFirst = resolve));
      this.#queue.runNow();
      if ((await first) === "usage-error") return 2;
      if (!this.signal.aborted) await new Promise((resolve) => this.signal.addEventListener("abort", resolve, { once: true }));
    } finally {
      clearInterval(keepAlive);
    }
    await this.#queue.close(); // the running iteration sees the abort: its builds are stopped
    return interruptExitCode(this.signal);
  }

  async close(): Promise<void> {
    await this.#queue.close();
    await this.#scripts.stopAll();
    await this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** One iteration, run by the queue (never two at once). */
  async #iterate(changed: ReadonlySet<string>): Promise<void> {
    let result: "ok" | "usage-error" = "ok";
    try {
      result = await this.#iteration(changed);
    } finally {
      if (!this.#firstDone) {
        this.#firstDone = true;
        this.#resolveFirst(result);
      }
    }
  }

  #isConfigChange(path: string): boolean {
    if (this.#configFiles.has(path)) return true;
    return isInside(path, this.#folderJobsDir) && basename(path) === "main.ts";
  }

  async #iteration(changed: ReadonlySet<string>): Promise<"ok" | "usage-error"> {
    if (this.signal.aborted) return "ok";
    const selfTriggered = changed.size > 0 && [...changed].every((p) => this.#changedWhileBuilding.has(p));
    this.#changedWhileBuilding = new Set();

    const configChanges = [...changed].filter((p) => this.#isConfigChange(p));
    let forced = false;
    if (this.#project === undefined || configChanges.length > 0) {
      if (this.#firstDone) this.reporter.info(`makes: ${describeChanges(configChanges.length > 0 ? configChanges : changed)} changed; reloading ${basename(this.configPath)}`);
      const wasBroken = this.#project === undefined;
      try {
        this.#project = await openProject(this.args, true);
      } catch (err) {
        this.#project = undefined;
        this.#lastRunKey = undefined;
        if (!(err instanceof MakesError)) throw err;
        this.reporter.error(err.message, err.detail);
        const named = fileNamedBy(err.message);
        if (named !== undefined) this.#configFiles.add(named);
        await this.#watchAndIdle(`; fix the error above`);
        return "ok";
      }
      this.#configFiles = new Set([this.configPath, ...this.#project.loaded.files]);
      // A fixed config runs again even when its hashes are the ones of the last run: the user wants to see it work.
      forced = wasBroken;
    }
    const project = this.#project;

    let plan: Plan;
    const planStarted = performance.now();
    try {
      plan = await project.plan(this.args.jobs_);
      this.#trees = sourceTreesOf(plan.nodes, project.projectDir);
      // A file saved after it was hashed but before a new watcher was ready would go unseen: hash
      // again once the watcher covers the trees (the tree set depends on the config, not on files).
      if (await this.#updateWatcher()) plan = await project.plan(this.args.jobs_);
    } catch (err) {
      if (!(err instanceof MakesError)) throw err;
      this.reporter.error(err.message, err.detail);
      if (!this.#firstDone && err instanceof UsageError) return "usage-error";
      this.#lastRunKey = undefined;
      // Most often a tree that is gone (`rm -rf src`, a checkout): keep watching where it was, so
      // that its return is seen.
      this.#trees = { trees: closureTreesOf(project, this.args.jobs_) ?? this.#trees.trees, files: undefined };
      await this.#watchAndIdle(`; fix the error above`);
      return "ok";
    }
    const runKey = `${plan.jobs.join("\n")}\n${[...plan.hashes.values()].map((h) => h.hash).sort().join(" ")}`;
    if (runKey === this.#lastRunKey && !forced) {
      // Nothing any job depends on changed (an ignored file, a file outside the closure, a save with the
      // same content, makes' own writes): no iteration, no output — unless a reload was announced.
      if (configChanges.length > 0 && this.#firstDone) {
        this.reporter.info("makes: no job changed");
        await this.#watchAndIdle("");
      }
      return "ok";
    }

    if (this.#firstDone && configChanges.length === 0) {
      this.reporter.info(`makes: ${changed.size === 0 ? "inputs" : describeChanges(changed)} changed; rebuilding`);
    }
    if (this.#pausedBySelfTrigger(selfTriggered, changed)) {
      await this.#watchAndIdle("; paused: save a file to rebuild");
      return "ok";
    }
    const runStarted = performance.now();
    this.#building = true;
    let outcome;
    try {
      outcome = await project.run(plan, {
        concurrency: concurrencyOf(this.args),
        keepGoing: this.args.keepGoing,
        dryRun: false,
        streamLogs: this.args.printLogs,
        signal: this.signal,
        emit: (e) => this.reporter.onEvent(e),
      });
    } finally {
      this.#building = false;
    }
    if (this.#trace) this.reporter.info(`makes: watch: hashed in ${Math.round(runStarted - planStarted)} ms, ran in ${Math.round(performance.now() - runStarted)} ms`);
    // Remembered even when it failed: saving an unrelated file does not retry the same failing build.
    this.#lastRunKey = runKey;
    if (this.signal.aborted) return "ok";

    const scripts = new Map<string, string>();
    for (const [job, path] of outcome.outputs) {
      const action = project.jobs.get(job)?.runAction();
      if (action !== undefined) scripts.set(job, action.executable(path));
      else process.stdout.write(`${path}\n`);
    }
    // A script whose build failed keeps running as it was; one no longer selected is stopped.
    const scriptJobs = plan.jobs.filter((j) => project.jobs.get(j)?.runAction() !== undefined);
    await this.#scripts.update(scripts, new Set(scriptJobs));
    await this.#watchAndIdle("");
    return "ok";
  }

  /** Says the session is idle (the line tests and users wait for). */
  async #watchAndIdle(suffix: string): Promise<void> {
    await this.#updateWatcher();
    if (this.signal.aborted) return;
    const missing = new Set(this.#watched?.missing ?? []);
    const configs = plural([...this.#configFiles].filter((f) => !missing.has(f)).length, "config file");
    const { trees, files } = this.#trees;
    const treeCount = plural(trees.filter((t) => !missing.has(t)).length, "tree");
    let what =
      this.#project === undefined
        ? configs
        : files === undefined
          ? `${treeCount} and ${configs}`
          : `${plural(files, "file")} in ${treeCount} and ${configs}`;
    if (missing.size > 0) what += `, and for ${shownList([...missing])} to be created`;
    this.reporter.info(`makes: watching ${what}${suffix}; press Ctrl-C to stop`);
  }

  /**
   * Points the watcher at the current config files and trees (a missing one through its nearest
   * existing directory, see watchRoots). A new set gets a new watcher, ready before the old one is
   * closed, so no change in between is lost. Returns true when the watcher was replaced.
   */
  async #updateWatcher(): Promise<boolean> {
    const paths = new Set<string>([...this.#configFiles, ...this.#trees.trees]);
    if (existsSync(this.#folderJobsDir)) paths.add(this.#folderJobsDir);
    const roots = watchRoots(paths);
    if (roots.key === this.#watched?.key && !this.#watcherStale) return false;
    const ignored = ignoredPath(this.#projectDir, this.#storeRoot);
    const next = watch([...roots.roots], {
      ignoreInitial: true,
      ignored: (path: string) => ignored(path) || roots.ignored(path),
      // chokidar's atomic mode delays deletions by 100 ms to merge an editor's delete+create; the
      // debounce already merges them, without the delay.
      atomic: false,
      // chokidar shares a persistent fs.watch handle between all watchers of one path, so the new
      // watcher of a directory replaced behind chokidar's back would inherit the old one's handle, which
      // watches the deleted directory and never fires again. Non-persistent handles are each watcher's
      // own; the session keeps the process alive instead (see run).
      persistent: false,
    });
    next.on("all", (event, path) => {
      if (this.#trace) this.reporter.info(`makes: watch: ${event} ${path}`);
      this.#onChange(event, path);
    });
    next.on("error", (err) => this.reporter.onEvent({ type: "warning", message: watchErrorMessage(err) }));
    await new Promise<void>((r) => next.once("ready", () => r()));
    if (this.#trace) this.reporter.info(`makes: watch: watching ${roots.roots.join(", ")}${roots.missing.length > 0 ? ` for ${roots.missing.join(", ")}` : ""}`);
    const old = this.#watcher;
    this.#watcher = next;
    this.#watched = roots;
    this.#watcherStale = false;
    await old?.close();
    return true;
  }

  #onChange(event: string, path: string): void {
    if (this.signal.aborted) return;
    if ((event === "unlink" || event === "unlinkDir") && this.#watched?.roots.includes(path) === true) this.#watcherStale = true;
    if (this.#building) this.#changedWhileBuilding.add(path);
    this.#queue.notify(path);
  }

  /**
   * A job that writes into its own watched sources makes each build start the next. After
   * SELF_TRIGGER_LIMIT such rebuilds in a row makes warns, naming the files, and does not rebuild again until a
   * file changes while no build runs (a save by the user), which starts the count again.
   */
  #pausedBySelfTrigger(selfTriggered: boolean, changed: ReadonlySet<string>): boolean {
    this.#selfTriggerStreak = selfTriggered ? this.#selfTriggerStreak + 1 : 0;
    if (this.#selfTriggerStreak <= SELF_TRIGGER_LIMIT) return false;
    if (this.#selfTriggerStreak === SELF_TRIGGER_LIMIT + 1) {
      this.reporter.onEvent({
        type: "warning",
        message: `the last ${SELF_TRIGGER_LIMIT} rebuilds were each started by files that changed while the previous one was building (${describeChanges(changed)}); a job may be writing into a source tree it depends on. Write such files elsewhere, or list them in .gitignore so that they are not part of the tree. Not rebuilding until a file changes while no build runs.`,
      });
    }
    return true;
  }

  #internalError(err: unknown): void {
    process.stderr.write(`makes: internal error (please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
}

/** The file a config error points at (`path:line:col: ...`), so watching covers it even before a load succeeds. */
function fileNamedBy(message: string): string | undefined {
  const match = /^(.+?):\d+:\d+: /.exec(message);
  if (match?.[1] === undefined) return undefined;
  const abs = resolve(process.cwd(), match[1]);
  return existsSync(abs) ? abs : undefined;
}

/** "src", "src and lib", "a, b, c and 2 more" — relative to the current directory. */
function shownList(paths: readonly string[]): string {
  const shown = paths.map((p) => relative(process.cwd(), p) || p);
  if (shown.length <= 2) return shown.join(" and ");
  return shown.length === 3 ? `${shown[0]}, ${shown[1]} and ${shown[2]}` : `${shown.slice(0, 3).join(", ")} and ${shown.length - 3} more`;
}

function watchErrorMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOSPC" || code === "EMFILE") {
    return `the system's limit on watched files was reached (${code}), so some changes will be missed; raise it (on Linux: sysctl fs.inotify.max_user_watches=524288) or watch fewer jobs`;
  }
  return `watching files: ${err instanceof Error ? err.message : String(err)}`;
}
