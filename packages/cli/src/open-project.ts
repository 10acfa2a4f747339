import { statSync } from "node:fs";
import { resolve } from "node:path";
import { Project, UsageError } from "@makes/core";
import { createMakesArgs } from "@makes/builders";
import { storeOption, type GlobalOptions } from "./global-options.js";

/**
 * The directory makes runs as if started in. A -C that does not exist is refused here: looking for
 * makes.ts "above" it would find some other project's, or say there is none, naming a directory that
 * is not there.
 */
export function cwdOf(options: GlobalOptions): string {
  if (options.C === undefined) return process.cwd();
  const dir = resolve(options.C);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    throw new UsageError("bad-flag", `-C ${dir}: the directory does not exist; give the directory of a project (one with a makes.ts, or below one)`);
  }
  if (!isDirectory) throw new UsageError("bad-flag", `-C ${dir}: not a directory; give the directory of a project (one with a makes.ts, or below one)`);
  return dir;
}

/** `plans`: the command will hash jobs, so the project's files are listed while makes.ts loads. */
export function openProject(options: GlobalOptions, plans = false): Promise<Project> {
  return Project.open({ cwd: cwdOf(options), configFile: options.config, storeDir: storeOption(options), args: createMakesArgs(), prefetchSources: plans });
}
