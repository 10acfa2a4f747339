import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UsageError, storeErrorFrom } from "@makes/core";
import { exportImage, type ExportFormat } from "@makes/builders";
import { type GlobalOptions } from "../global-options.js";
import { interruptSignal } from "../interrupt.js";
import { cwdOf, openProject } from "../open-project.js";
import { createReporter } from "../reporters/create-reporter.js";
import { buildOnce } from "./run.js";

/**
 * `makes export /image --format oci-archive|docker-archive [-o FILE|-]`: builds the image job and writes
 * it as one tar (the dual shape: both skopeo transports read it). A file is written beside its final
 * name and renamed, so an interrupted export never leaves a truncated archive under that name.
 */
export async function exportCommand(args: GlobalOptions & { readonly job: string; readonly format: ExportFormat; readonly output: string | undefined }): Promise<number> {
  const toStdout = args.output === "-" || (args.output === undefined && !process.stdout.isTTY);
  if (args.output === undefined && !toStdout) {
    throw new UsageError("bad-flag", `makes export writes a tar: give -o FILE (or -o - to write to stdout, which is a terminal here)`);
  }
  const target = toStdout ? undefined : resolve(cwdOf(args), args.output ?? "");
  if (target !== undefined) {
    const parent = await stat(dirname(target)).catch(() => undefined);
    if (parent === undefined || !parent.isDirectory()) {
      throw new UsageError("bad-flag", `-o ${args.output ?? ""}: the directory ${dirname(target)} does not exist; create it or choose another file`);
    }
    if ((await stat(target).catch(() => undefined))?.isDirectory() === true) {
      throw new UsageError("bad-flag", `-o ${args.output ?? ""} is a directory; give a file name, for example -o ${join(args.output ?? "", "image.tar")}`);
    }
  }
  const reporter = createReporter(args.reporter, { dryRun: args.dryRun });
  const { signal, dispose } = interruptSignal();
  try {
    const project = await openProject(args);
    const node = project.jobs.get(args.job);
    if (node !== undefined && node.kind !== "image") {
      throw new UsageError("not-an-image", `${args.job} is a ${node.kind} job, not an image; makes export takes a makeContainerImage job`);
    }
    const { code, outputs } = await buildOnce(project, { ...args, jobs_: [args.job], scriptArgs: [] }, reporter, signal);
    reporter.close();
    const path = outputs.get(args.job);
    if (code !== 0 || path === undefined) return code === 0 ? 1 : code;
    if (toStdout) {
      await exportImage(path, args.format, process.stdout);
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
      await rm(tmp, { force: true });
      throw storeErrorFrom(err, `writing ${final}`);
    }
    process.stderr.write(`makes export: wrote ${args.format} ${final}\n`);
    return 0;
  } finally {
    reporter.close();
    dispose();
  }
}
