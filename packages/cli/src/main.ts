import { MakesError } from "@makes/core";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { gcCommand } from "./commands/gc.js";
import { graphCommand, type GraphFormat } from "./commands/graph.js";
import { listCommand } from "./commands/list.js";
import { logCommand } from "./commands/log.js";
import { runCommand } from "./commands/run.js";
import { verifyCommand } from "./commands/verify.js";
import { whyCommand } from "./commands/why.js";
import type { ExportFormat } from "@makes/builders";
import type { GlobalOptions } from "./global-options.js";
import { PlainReporter } from "./reporters/plain-reporter.js";
import type { ReporterName } from "./reporters/reporter.js";

process.umask(0o022); // outputs and image layers must not depend on the caller's umask
// A reader that goes away (`makes run -L /x 2>&1 | head -1`) must not abort a build half-way and leave its
// lock behind: output to a closed pipe is dropped, the run goes on and ends normally.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);

let exitCode = 0;
let usageFailed = false;
const usageMessages: string[] = [];

function globals(argv: Record<string, unknown>): GlobalOptions {
  return {
    C: argv.C as string | undefined,
    config: argv.config as string | undefined,
    store: argv.store as string | undefined,
    jobs: argv.j as number | undefined,
    keepGoing: argv.keepGoing === true,
    dryRun: argv.dryRun === true,
    printLogs: argv.printLogs === true,
    reporter: (argv.reporter as ReporterName | undefined) ?? "auto",
  };
}

/** The part of yargs' internal API that `skipHelpCache` touches; not in its published types. */
interface YargsInternals {
  getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } };
}

/**
 * yargs lays out a command's whole help text after starting its handler, to have it ready should the
 * handler fail through yargs. Ours never do (commands report their own failures), and the lay-out is
 * ~35 ms of CPU, a fifth of a no-op `makes run`. This reaches into yargs' internals (version pinned by the
 * lockfile); where they differ, nothing is skipped and only time is lost.
 */
function skipHelpCache(cli: Argv): void {
  const usage = (cli as unknown as YargsInternals).getInternalMethods?.().getUsageInstance?.();
  if (usage !== undefined && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => undefined;
}

async function main(): Promise<void> {
  const rawArgs = hideBin(process.argv);
  const dashDash = rawArgs.indexOf("--");
  const ourArgs = dashDash === -1 ? rawArgs : rawArgs.slice(0, dashDash);
  const scriptArgs = dashDash === -1 ? [] : rawArgs.slice(dashDash + 1);
  const run = async (fn: () => Promise<number>): Promise<void> => {
    if (usageFailed) return; // yargs already reported a usage error for this command line
    exitCode = await fn();
  };
  const wantsHelp = ourArgs.includes("--help") || ourArgs.includes("-h") || ourArgs.length === 0;
  const cli: Argv = yargs(ourArgs)
    .scriptName("makes")
    .usage("makes <command> [options]\n\nA declarative, Nix-style job runner. Jobs are declared in makes.ts.")
    .option("C", { type: "string", describe: "Run as if started in DIR", requiresArg: true, global: true })
    .option("config", { type: "string", describe: "Use this config file instead of the nearest makes.ts", requiresArg: true, global: true })
    .option("store", { type: "string", describe: "Store directory (default <project>/.makes, or $MAKES_STORE)", requiresArg: true, global: true })
    .option("j", { alias: "jobs", type: "number", describe: "Builds at once (default: the number of cores)", requiresArg: true, global: true })
    .option("keep-going", { type: "boolean", describe: "Build everything that does not depend on a failure", global: true })
    .option("dry-run", { type: "boolean", describe: "Show what would be built and what is cached", global: true })
    .option("L", { alias: "print-logs", type: "boolean", describe: "Print the logs of builds as they run", global: true })
    .option("reporter", { choices: ["auto", "plain", "json", "terminal"] as const, default: "auto", describe: "How progress is shown on stderr", global: true })
    .command(
      "run <targets..>",
      "Build jobs (names or globs) and print their output paths; run script jobs (arguments after --)",
      (y) => y.positional("targets", { type: "string", array: true, describe: "Job names or globs such as '/packages/*/build'" }).option("watch", { type: "boolean", describe: "Rebuild whenever an input changes" }),
      (argv) =>
        run(async () => {
          const options = { ...globals(argv), jobs_: (argv.targets as string[] | undefined) ?? [], scriptArgs };
          if (argv.watch === true) {
            const { watchCommand } = await import("./commands/watch.js");
            return watchCommand(options);
          }
          return runCommand(options);
        }),
    )
    .command("list", "List the jobs with their kind", (y) => y.option("json", { type: "boolean", describe: "As JSON" }), (argv) => run(() => listCommand({ ...globals(argv), json: argv.json === true })))
    .command(
      "graph <targets..>",
      "Print the build graph of jobs with each node's hash and state",
      (y) => y.positional("targets", { type: "string", array: true }).option("format", { choices: ["dot", "mermaid", "json"] as const, default: "dot" }),
      (argv) => run(() => graphCommand({ ...globals(argv), jobs_: (argv.targets as string[] | undefined) ?? [], format: argv.format as GraphFormat })),
    )
    .command(
      "why <job>",
      "Explain, input by input, why the job's closure would be rebuilt",
      (y) => y.positional("job", { type: "string" }).option("json", { type: "boolean" }).option("all", { type: "boolean", describe: "Also list nodes that are built" }),
      (argv) => run(() => whyCommand({ ...globals(argv), job: String(argv.job), json: argv.json === true, all: argv.all === true })),
    )
    .command("log <job>", "Print the build log of the job's current output", (y) => y.positional("job", { type: "string" }), (argv) => run(() => logCommand({ ...globals(argv), job: String(argv.job) })))
    .command(
      "gc",
      "Remove store paths that no out-link reaches",
      (y) => y.option("keep-since", { type: "string", describe: "Also keep paths built within this duration (30m, 12h, 7d)", requiresArg: true }),
      (argv) => run(() => gcCommand({ ...globals(argv), keepSince: argv.keepSince as string | undefined })),
    )
    .command(
      "export <job>",
      "Write an image job as one tar (oci-archive or docker-archive)",
      (y) =>
        y
          .positional("job", { type: "string" })
          .option("format", { choices: ["oci-archive", "docker-archive"] as const, demandOption: true, describe: "Archive format" })
          .option("o", { alias: "output", type: "string", requiresArg: true, describe: "File to write, or - for stdout" }),
      async (argv) => {
        const { exportCommand } = await import("./commands/export.js");
        await run(() => exportCommand({ ...globals(argv), job: String(argv.job), format: argv.format as ExportFormat, output: argv.o as string | undefined }));
      },
    )
    .command(
      "verify",
      "Check that every store path and cached layer still has the content it was built with",
      (y) => y.option("repair", { type: "boolean", describe: "Remove what changed, so that the next run rebuilds it" }),
      (argv) => run(() => verifyCommand({ ...globals(argv), repair: argv.repair === true })),
    )
    .demandCommand(1, "Give a command, for example: makes run /myJob")
    .strict()
    // Help is only wired up when asked for: yargs otherwise lays out the whole help text on every parse,
    // a fifth of a no-op run's time.
    .help(wantsHelp)
    .version(false)
    .fail((message, error) => {
      if (error !== undefined && error !== null) throw error;
      usageFailed = true;
      usageMessages.push(message ?? "bad usage");
    });
  if (!wantsHelp) skipHelpCache(cli);
  await cli.parseAsync();
  if (usageFailed) {
    // yargs may report several problems of one command line; one message is enough, and an unknown
    // flag is the one to name: `run --frobnicate /job` otherwise reads as a missing job, because
    // the unknown flag swallowed "/job" as its value.
    const message = usageMessages.find((m) => m.startsWith("Unknown argument")) ?? usageMessages[0];
    new PlainReporter().error(`${message ?? "bad usage"}; see \`makes --help\``);
    exitCode = 2;
  }
}

/**
 * Exits once stdout and stderr have been handed to the OS. Writes to a pipe whose reader is slower than
 * makes (`makes run ... --reporter json 2>&1 | jq`) are queued once the pipe's buffer is full, and
 * process.exit() would drop what is queued: output paths and events would go missing.
 */
function exitAfterOutput(code: number): void {
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

main().then(
  () => exitAfterOutput(exitCode),
  (err: unknown) => {
    if (err instanceof MakesError) {
      new PlainReporter().error(err.message, err.detail);
      exitAfterOutput(err.exitCode);
      return;
    }
    process.stderr.write(`makes: internal error (please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    exitAfterOutput(70);
  },
);
