import { spawn } from "node:child_process";
import { MakesError, type Project } from "@makes/core";
import { concurrencyOf, type GlobalOptions } from "../global-options.js";
import { interruptSignal } from "../interrupt.js";
import { openProject } from "../open-project.js";
import { createReporter } from "../reporters/create-reporter.js";
import type { Reporter } from "../reporters/reporter.js";

export interface RunArgs extends GlobalOptions {
  readonly jobs_: readonly string[];
  readonly scriptArgs: readonly string[];
}

/** Builds the jobs once; prints their output paths; runs script jobs. Returns the exit code. */
export async function buildOnce(project: Project, args: RunArgs, reporter: Reporter, signal: AbortSignal): Promise<{ code: number; outputs: ReadonlyMap<string, string> }> {
  const plan = await project.plan(args.jobs_);
  const outcome = await project.run(plan, {
    concurrency: concurrencyOf(args),
    keepGoing: args.keepGoing,
    dryRun: args.dryRun,
    streamLogs: args.printLogs,
    signal,
    emit: (e) => reporter.onEvent(e),
  });
  if (signal.aborted) return { code: 130, outputs: outcome.outputs };
  return { code: outcome.failed ? 1 : 0, outputs: outcome.outputs };
}

/** Runs a built script in the caller's directory with the caller's environment; resolves to its exit code. */
export function runScript(executable: string, scriptArgs: readonly string[], signal?: AbortSignal): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(executable, [...scriptArgs], { stdio: "inherit", env: process.env, cwd: process.cwd() });
    const onAbort = (): void => {
      child.kill("SIGTERM");
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", () => resolve(127));
    child.on("close", (code, sig) => {
      signal?.removeEventListener("abort", onAbort);
      resolve(code ?? (sig === "SIGINT" ? 130 : 128 + 15));
    });
  });
}

export async function runCommand(args: RunArgs): Promise<number> {
  const reporter = createReporter(args.reporter);
  const { signal, dispose } = interruptSignal();
  try {
    concurrencyOf(args); // a bad -j is a usage error before makes.ts is loaded and hashed
    const project = await openProject(args);
    const { code, outputs } = await buildOnce(project, args, reporter, signal);
    reporter.close();
    const scripts: string[] = [];
    // The jobs that were built are printed even when others failed (--keep-going): their out-links exist too.
    for (const [job, path] of outputs) {
      const action = project.jobs.get(job)?.runAction();
      if (action !== undefined && !args.dryRun) scripts.push(action.executable(path));
      else process.stdout.write(`${path}\n`);
    }
    if (code !== 0) return code;
    dispose();
    for (const executable of scripts) {
      const scriptCode = await runScript(executable, args.scriptArgs);
      if (scriptCode !== 0) return scriptCode;
    }
    return 0;
  } catch (err) {
    // Through the run's reporter, so that `--reporter json` stays one JSON object per line even
    // when makes.ts is broken or a job name is unknown.
    if (!(err instanceof MakesError)) throw err;
    reporter.error(err.message, err.detail);
    return err.exitCode;
  } finally {
    reporter.close();
    dispose();
  }
}
