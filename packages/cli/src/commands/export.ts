import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UsageError, closestNames, selectJobs, storeErrorFrom, type MakesNode } from "@makes/core";
import { exportImage, type ExportFormat } from "@makes/builders";
import { type GlobalOptions } from "../global-options.js";
import { interruptSignal } from "../interrupt.js";
import { cwdOf, openProject } from "../open-project.js";
import { outputFileError } from "../output-file-error.js";
import { createReporter } from "../reporters/create-reporter.js";
import { buildOnce } from "./run.js";

/**
 * `makes export /image --format oci-archive|docker-archive [-o FILE|-]`: builds the image job and writes
 * it as one tar (the dual shape: both skopeo transports read it). A file is written beside its final
 * name and renamed, so an interrupted export never leaves a truncated archive under that name.
 */
export async function exportCommand(args: GlobalOptions & { readonly job: string; readonly format: ExportFormat; readonly output: string | undefined }): Promise<number> {
  if (args.output === "") throw new UsageError("bad-flag", `-o: the value is empty; give a file name (-o image.tar) or - for stdout`);
  const toStdout = args.output === "-" || (args.output === undefined && !process.stdout.isTTY);
  if (args.output === undefined && !toStdout) {
    throw new UsageError("bad-flag", `makes export writes a tar: give -o FILE (or -o - to write to stdout, which is a terminal here)`);
  }
  const target = toStdout ? undefined : resolve(cwdOf(args), args.output ?? "");
  if (target !== undefined) {
    const parent = await stat(dirname(target)).catch((err: NodeJS.ErrnoException) => err);
    if (parent instanceof Error && parent.code !== "ENOENT" && parent.code !== "ENOTDIR") throw outputFileError(parent, target);
    if (parent instanceof Error || !parent.isDirectory()) {
      throw new UsageError("bad-flag", `-o ${args.output ?? ""}: the directory ${dirname(target)} does not exist; create it or choose another file`);
    }
    if ((await stat(target).catch(() => undefined))?.isDirectory() === true) {
      throw new UsageError("bad-flag", `-o ${args.output ?? ""} is a directory; give a file name, for example -o ${join(args.output ?? "", "image.tar")}`);
    }
  }
  const reporter = createReporter(args.reporter, { dryRun: args.dryRun });
  const { signal, dispose } = interruptSignal();
  try {
    const project = await openProject(args, true);
    const job = oneImageJob(args.job, project.jobs);
    const { code, outputs } = await buildOnce(project, { ...args, jobs_: [job], scriptArgs: [] }, reporter, signal);
    reporter.close();
    const path = outputs.get(job);
    // a dry run shows what would be built (the reporter's summary) and writes no archive
    if (code !== 0 || args.dryRun) return code;
    if (path === undefined) throw new Error(`internal: ${job} was built but has no output path`);
    if (toStdout) {
      try {
        await exportImage(path, args.format, process.stdout);
      } catch (err) {
        // The reader went away (`makes export … -o - | head -c 100`): end quietly, as tar or cat do, with
        // the code a shell gives a process that SIGPIPE ended (128 + 13), so `set -o pipefail` still sees it.
        if (readerGone(err)) return EXIT_READER_GONE;
        throw storeErrorFrom(err, "writing the archive to stdout");
      }
      return 0;
    }
    const final = target ?? resolve(cwdOf(args), args.output ?? "");
    const tmp = `${final}.makes-${process.pid}.tmp`;
    try {
      const stream = createWriteStream(tmp);
      const closed = new Promise<void>((resolveClose, reject) => {
        stream.on("close", resolveClose);
        stream.on("error", reject);
      });
      closed.catch(() => undefined); // awaited below; an open error must not surface as an unhandled rejection first
      await exportImage(path, args.format, stream);
      stream.end();
      await closed; // every byte is on disk before the archive gets its name
      await rename(tmp, final);
    } catch (err) {
      // Best effort: in a directory makes may not enter, the removal fails the same way the write did.
      await rm(tmp, { force: true }).catch(() => undefined);
      throw outputFileError(err, final);
    }
    process.stderr.write(`makes export: wrote ${args.format} ${final}\n`);
    return 0;
  } finally {
    reporter.close();
    dispose();
  }
}

/** 128 + SIGPIPE: what a shell reports for a writer whose reader closed the pipe. */
export const EXIT_READER_GONE = 141;

function readerGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ERR_STREAM_DESTROYED";
}

/** The one image job that `pattern` (a name or a glob, as for makes run) names; anything else is a usage error. */
function oneImageJob(pattern: string, jobs: ReadonlyMap<string, MakesNode>): string {
  const shown = (list: readonly string[]): string => (list.length > 8 ? `${list.slice(0, 8).join(", ")}, … (${list.length})` : list.join(", "));
  const allImages = [...jobs.keys()].filter((j) => jobs.get(j)?.kind === "image");
  let matches: string[];
  try {
    matches = selectJobs([pattern], jobs.keys());
  } catch (err) {
    // Nothing matches: the names worth suggesting are images, the only jobs export takes.
    if (!(err instanceof UsageError) || allImages.length === 0 || !pattern.startsWith("/")) throw err;
    const near = closestNames(pattern, allImages);
    const hint = near.length > 0 ? `closest: ${near.join(", ")}` : `the image jobs are ${shown(allImages.sort())}`;
    throw new UsageError(err.reason, `No image job matches "${pattern}"; ${hint}`);
  }
  const images = matches.filter((j) => jobs.get(j)?.kind === "image");
  if (matches.length === 1 && images.length === 1) return matches[0] as string;
  if (matches.length === 1) {
    const job = matches[0] as string;
    throw new UsageError("not-an-image", `${job} is a ${jobs.get(job)?.kind ?? "unknown"} job, not an image; makes export takes a makeContainerImage job`);
  }
  if (images.length === 0) throw new UsageError("not-an-image", `"${pattern}" matches ${shown(matches)}, none of them an image; makes export takes one makeContainerImage job`);
  throw new UsageError("bad-flag", `makes export writes one image, but "${pattern}" matches ${matches.length} jobs (${shown(matches)}); name one of ${shown(images)}`);
}
