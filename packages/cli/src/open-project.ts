import { resolve } from "node:path";
import { Project } from "@makes/core";
import { createMakesArgs } from "@makes/builders";
import { storeOption, type GlobalOptions } from "./global-options.js";

export function cwdOf(options: GlobalOptions): string {
  return options.C === undefined ? process.cwd() : resolve(options.C);
}

export function openProject(options: GlobalOptions): Promise<Project> {
  return Project.open({ cwd: cwdOf(options), configFile: options.config, storeDir: storeOption(options), args: createMakesArgs() });
}
