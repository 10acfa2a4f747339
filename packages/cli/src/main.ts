import { MakesError } from "@makes/core";
import yargs, { type Argv } from "yargs";
import { hideBin, Parser } from "yargs/helpers";
import { gcCommand } from "./commands/gc.js";
import { graphCommand, type GraphFormat } from "./commands/graph.js";
import { listCommand } from "./commands/list.js";
import { logCommand } from "./commands/log.js";
import { runCommand } from "./commands/run.js";
import { verifyCommand } from "./commands/verify.js";
import { whyCommand } from "./commands/why.js";
import type { ExportFormat } from "@makes/builders";
import { checkPathFlags, concurrencyOf, GLOBAL_FLAG_VALUES, type GlobalOptions } from "./global-options.js";
import { JsonReporter } from "./reporters/json-reporter.js";
import { PlainReporter } from "./reporters/plain-reporter.js";
import type { Reporter, ReporterName } from "./reporters/reporter.js";
import { checkSwitchValues } from "./switch-values.js";
import { usageMessage } from "./usage-message.js";
import { makesVersion } from "./version.js";

process.umask(0o022); // outputs and image layers must not depend on the caller's umask
// A reader that goes away (`makes run -L /x 2>&1 | head -1`) must not abort a build half-way and leave its
// lock behind: output to a closed pipe is dropped, the run goes on and ends normally.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);

let exitCode = 0;
let usageFailed = false;
const usageMessages: string[] = [];
/** What each flag of this command line takes (yargs key → text); a command's builder adds its own. */
const flagValues = new Map(GLOBAL_FLAG_VALUES);

/**
 * A flag given twice takes its last value, as in most tools (`makes run --store a --store b`). yargs
 * collects the values in an array instead; its option to stop doing so also cuts variadic positionals
 * (`run /a /b`) to their last value.
 */
function single<T>(value: unknown): T | undefined {
  return (Array.isArray(value) ? value.at(-1) : value) as T | undefined;
}

function globals(argv: Record<string, unknown>): GlobalOptions {
  const options: GlobalOptions = {
    C: single<string>(argv.C),
    config: single<string>(argv.config),
    store: single<string>(argv.store),
    jobs: single<string>(argv.j),
    keepGoing: single(argv.keepGoing) === true,
    dryRun: single(argv.dryRun) === true,
    printLogs: single(argv.printLogs) === true,
    reporter: single<ReporterName>(argv.reporter) ?? "auto",
  };
  checkPathFlags(options);
  concurrencyOf(options); // a bad -j is an error for every command, not only those that build
  return options;
}

/**
 * The reporter for an error that ends the command outside a run (a usage error, a broken makes.ts in
 * `makes list`): with `--reporter json` it is a JSON event too, as it is for `makes run`. Read from the
 * raw arguments because yargs may have failed to parse them.
 */
function errorReporter(args: readonly string[]): Reporter {
  return single(Parser([...args], { string: ["reporter"] }).reporter) === "json" ? new JsonReporter() : new PlainReporter();
}

/** The part of yargs' internal API that `skipHelpCache` touches; not in its published types. */
interface YargsInternals {
  getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } };
}

/** The boolean options yargs knows for the command being run (its builder has run by the time the handler does). */
function booleanOptions(cli: Argv): readonly string[] {
  // getOptions() is part of yargs' API but missing from its published types.
  const options = (cli as unknown as { getOptions?: () => { boolean?: unknown } }).getOptions?.();
  return Array.isArray(options?.boolean) ? options.boolean.filter((b): b is string => typeof b === "string") : [];
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

const rawArgs = hideBin(process.argv);
const dashDash = rawArgs.indexOf("--");
/** makes's own arguments; those after `--` are a script's. */
const ourArgs = dashDash === -1 ? rawArgs : rawArgs.slice(0, dashDash);
const scriptArgs = dashDash === -1 ? [] : rawArgs.slice(dashDash + 1);

async function main(): Promise<void> {
  const run = async (fn: () => Promise<number>): Promise<void> => {
    if (usageFailed) return; // yargs already reported a usage error for this command line
    checkSwitchValues(ourArgs, booleanOptions(cli)); // the options of the command being run, by now
    exitCode = await fn();
  };
  // As in most tools, --version anywhere among makes's own arguments prints the version, whatever else is given.
  if (ourArgs.includes("--version")) {
    process.stdout.write(`${makesVersion()}\n`);
    return;
  }
  const wantsHelp = ourArgs.includes("--help") || ourArgs.includes("-h") || ourArgs.length === 0;
  const cli: Argv = yargs(ourArgs)
    .scriptName("makes")
    .usage("makes <command> [options]\n\nA declarative, Nix-style job runner. Jobs are declared in makes.ts.")
    .option("C", { type: "string", describe: "Run as if started in DIR", requiresArg: true, global: true })
    .option("config", { type: "string", describe: "Use this config file instead of the nearest makes.ts", requiresArg: true, global: true })
    .option("store", { type: "string", describe: "Store directory (default <project>/.makes, or $MAKES_STORE)", requiresArg: true, global: true })
    .option("j", { alias: "jobs", type: "string", describe: "Builds at once, a whole number ≥ 1 (default: the number of cores)", requiresArg: true, global: true })
    .option("keep-going", { type: "boolean", describe: "Build everything that does not depend on a failure", global: true })
    .option("dry-run", { type: "boolean", describe: "Show what would be built and what is cached", global: true })
    .option("L", { alias: "print-logs", type: "boolean", describe: "Print the logs of builds as they run", global: true })
    .version(false) // its own would exit the process itself; --version is handled above, this only lists it
    .option("version", { type: "boolean", describe: "Print the version of makes and exit" })
    .option("reporter", { choices: ["auto", "plain", "json", "terminal"] as const, default: "auto", describe: "How progress is shown on stderr", requiresArg: true, global: true })
    .command(
      "run <targets..>",
      "Build jobs (names or globs) and print their output paths; run script jobs (arguments after --)",
      (y) => y.positional("targets", { type: "string", array: true, describe: "Job names or globs such as '/packages/*/build'" }).option("watch", { type: "boolean", describe: "Rebuild whenever an input changes" }),
      (argv) =>
        run(async () => {
          const options = { ...globals(argv), jobs_: (argv.targets as string[] | undefined) ?? [], scriptArgs };
          if (single(argv.watch) === true) {
            const { watchCommand } = await import("./commands/watch.js");
            return watchCommand(options);
          }
          return runCommand(options);
        }),
    )
    .command("list", "List the jobs with their kind", (y) => y.option("json", { type: "boolean", describe: "As JSON" }), (argv) => run(() => listCommand({ ...globals(argv), json: single(argv.json) === true })))
    .command(
      "graph <targets..>",
      "Print the build graph of jobs with each node's hash and state",
      (y) => {
        flagValues.set("format", "dot, mermaid or json");
        return y.positional("targets", { type: "string", array: true }).option("format", { choices: ["dot", "mermaid", "json"] as const, default: "dot", requiresArg: true });
      },
      (argv) => run(() => graphCommand({ ...globals(argv), jobs_: (argv.targets as string[] | undefined) ?? [], format: single<GraphFormat>(argv.format) ?? "dot" })),
    )
    .command(
      "why <job>",
      "Explain, input by input, why the job's closure would be rebuilt",
      (y) => y.positional("job", { type: "string" }).option("json", { type: "boolean" }).option("all", { type: "boolean", describe: "Also list nodes that are built" }),
      (argv) => run(() => whyCommand({ ...globals(argv), job: String(argv.job), json: single(argv.json) === true, all: single(argv.all) === true })),
    )
    .command("log <job>", "Print the build log of the job's current output", (y) => y.positional("job", { type: "string" }), (argv) => run(() => logCommand({ ...globals(argv), job: String(argv.job) })))
    .command(
      "gc",
      "Remove store paths that no out-link reaches",
      (y) => {
        flagValues.set("keep-since", "a duration such as 30m, 12h or 7d");
        return y.option("keep-since", { type: "string", describe: "Also keep paths built within this duration (30m, 12h, 7d)", requiresArg: true });
      },
      (argv) => run(() => gcCommand({ ...globals(argv), keepSince: single<string>(argv.keepSince) })),
    )
    .command(
      "export <job>",
      "Write an image job as one tar (oci-archive or docker-archive)",
      (y) => {
        flagValues.set("format", "oci-archive or docker-archive");
        flagValues.set("o", "a file to write, or - for stdout");
        return y
          .positional("job", { type: "string" })
          .option("format", { choices: ["oci-archive", "docker-archive"] as const, demandOption: true, requiresArg: true, describe: "Archive format" })
          .option("o", { alias: "output", type: "string", requiresArg: true, describe: "File to write, or - for stdout" });
      },
      async (argv) => {
        const { exportCommand } = await import("./commands/export.js");
        await run(() => exportCommand({ ...globals(argv), job: String(argv.job), format: single<ExportFormat>(argv.format) as ExportFormat, output: single<string>(argv.o) }));
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
    // yargs calls this with a message for a usage problem of the command line (a missing flag value
    // comes with a YError too), and with only an error when a command's handler failed: that one is
    // not the user's doing here, and goes on to the caller of parseAsync.
    .fail((message: string | null | undefined, error: Error | null | undefined) => {
      if ((message === null || message === undefined) && error !== undefined && error !== null) throw error;
      usageFailed = true;
      usageMessages.push(message ?? "bad usage");
    });
  if (!wantsHelp) skipHelpCache(cli);
  await cli.parseAsync();
  if (usageFailed) {
    // yargs may report several problems of one command line; one message is enough, and an unknown
    // flag is the one to name: `run --frobnicate /job` otherwise reads as a missing job, because
    // the unknown flag swallowed "/job" as its value.
    // A flag without its value reads as a missing job when nothing follows it (`makes run -j`): name the flag.
    const message =
      usageMessages.find((m) => m.startsWith("Unknown argument")) ??
      usageMessages.find((m) => m.startsWith("Not enough arguments following")) ??
      usageMessages[0];
    errorReporter(ourArgs).error(`${usageMessage(message ?? "bad usage", flagValues)}; see \`makes --help\``);
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

/** A user's error in one line with its exit code; anything else is an internal error, with its stack, exit 70. */
function fail(err: unknown): void {
  if (err instanceof MakesError) {
    errorReporter(ourArgs).error(err.message, err.detail);
    exitAfterOutput(err.exitCode);
    return;
  }
  process.stderr.write(`makes: internal error (please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  exitAfterOutput(70);
}

// A rejection nothing awaited would otherwise end the process with Node's own dump and exit code 1, which reads as
// a failed job.
process.on("unhandledRejection", fail);
main().then(() => exitAfterOutput(exitCode), fail);
