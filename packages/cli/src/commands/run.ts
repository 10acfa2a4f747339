import { MakesError, type Project } from "@makes/core";
import { concurrencyOf, type GlobalOptions } from "../global-options.js";
import { interruptExitCode, interruptSignal } from "../interrupt.js";
import { openProject } from "../open-project.js";
import { createReporter } from "../reporters/create-reporter.js";
import type { Reporter } from "../reporters/reporter.js";
import { runScript } from "../run-script.js";

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
  if (signal.aborted) return { code: interruptExitCode(signal), outputs: outcome.outputs };
  return { code: outcome.failed ? 1 : 0, outputs: outcome.outputs };
}

export async function runCommand(args: RunArgs): Promise<number> {
  const reporter = createReporter(args.reporter, { dryRun: args.dryRun });
  const { signal, dispose } = interruptSignal();
  try {
    concurrencyOf(args); // a bad -j is a usage error before makes.ts is loaded and hashed
    const project = await openProject(args, true);
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
    for (const executable of scripts) {
      if (signal.aborted) return interruptExitCode(signal); // a signal after the build: no script is started
      const running = runScript(executable, args.scriptArgs);
      dispose(); // the script passes signals on now; the run's handler would abort nothing, or exit makes
      const scriptCode = await running;
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
