import { spawn, type ChildProcess } from "node:child_process";
import { SCRIPT_STOP_GRACE_MS, signalGroup, stopGroup } from "./process-group.js";


interface RunningScript {
  readonly job: string;
  readonly executable: string;
  readonly child: ChildProcess;
  readonly pgid: number;
  stopping: boolean;
  readonly exited: Promise<void>;
}

/**
 * The script jobs of a watch session (`makeScript`: a dev server, a test runner). Each runs in its own
 * process group, in the caller's directory with the caller's environment, as `makes run` runs it. When
 * a script's store path changes (its inputs were rebuilt) the whole group of the old one is stopped —
 * SIGTERM, then SIGKILL after a grace period — and only once it is gone (its port is free) is the new
 * one started. A script that exits by itself is reported and started again only when it changes.
 */
export class ScriptSupervisor {
  readonly #running = new Map<string, RunningScript>();
  /** Job → the executable last started, whether or not it still runs. */
  readonly #started = new Map<string, string>();
  readonly #onExit = (): void => this.killAllNow();

  constructor(
    private readonly scriptArgs: readonly string[],
    private readonly say: (message: string) => void,
  ) {
    // A second Ctrl-C exits at once: the scripts' process groups must not outlive makes.
    process.on("exit", this.#onExit);
  }

  /**
   * Makes the running scripts match `wanted` (job → executable in the store). A script job in
   * `selected` but not in `wanted` (its build failed) keeps running as it was; one not selected any
   * more is stopped.
   */
  async update(wanted: ReadonlyMap<string, string>, selected: ReadonlySet<string>): Promise<void> {
    const restarts: string[] = [];
    for (const [job, running] of [...this.#running]) {
      const next = wanted.get(job);
      if (next === running.executable) continue;
      if (next === undefined && selected.has(job)) continue;
      if (next !== undefined) restarts.push(job);
      await this.#stop(running);
    }
    for (const job of [...this.#started.keys()]) if (!selected.has(job)) this.#started.delete(job);
    for (const [job, executable] of wanted) {
      if (this.#started.get(job) === executable) continue; // unchanged (running, or exited on its own)
      this.say(`makes: ${restarts.includes(job) ? "restarting" : "starting"} ${job}`);
      this.#start(job, executable);
    }
  }

  /** Stops every script (Ctrl-C). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#running.values()].map((r) => this.#stop(r)));
    process.off("exit", this.#onExit);
  }

  /** Synchronous last resort when the process exits without stopAll. */
  killAllNow(): void {
    for (const r of this.#running.values()) signalGroup(r.pgid, "SIGKILL");
  }

  #start(job: string, executable: string): void {
    this.#started.set(job, executable);
    // stdin is not given: a script in another process group reading the terminal would be stopped.
    const child = spawn(executable, [...this.scriptArgs], { stdio: ["ignore", "inherit", "inherit"], env: process.env, cwd: process.cwd(), detached: true });
    const pgid = child.pid;
    if (pgid === undefined) {
      child.on("error", (err) => this.say(`makes: could not start ${job}: ${err.message}`));
      return;
    }
    let resolveExited: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));
    const running: RunningScript = { job, executable, child, pgid, stopping: false, exited };
    this.#running.set(job, running);
    child.on("error", (err) => this.say(`makes: ${job}: ${err.message}`));
    child.on("exit", (code, signal) => {
      if (this.#running.get(job) === running) this.#running.delete(job);
      if (!running.stopping) {
        const how = code !== null ? `with code ${code}` : `by ${signal ?? "a signal"}`;
        this.say(`makes: ${job} exited ${how}; it starts again when its inputs change`);
      }
      resolveExited();
    });
  }

  async #stop(running: RunningScript): Promise<void> {
    running.stopping = true;
    if (this.#running.get(running.job) === running) this.#running.delete(running.job);
    await stopGroup(running.pgid, SCRIPT_STOP_GRACE_MS);
    await running.exited;
  }
}
