import { readFile } from "node:fs/promises";
import { UsageError } from "@makes/core";
import type { GlobalOptions } from "../global-options.js";
import { openProject } from "../open-project.js";

/** Prints the build log of the job's current output (also when it came from the cache). */
export async function logCommand(args: GlobalOptions & { readonly job: string }): Promise<number> {
  const project = await openProject(args, true);
  const plan = await project.plan([args.job]);
  const root = plan.roots[0];
  const hash = root === undefined ? undefined : plan.hashes.get(root)?.hash;
  // The log of the job's current hash: of its build, or of its last failed attempt (the one worth reading).
  const text = hash === undefined ? undefined : await readFile(project.store.layout.logPath(hash), "utf8").catch(() => undefined);
  if (text === undefined) {
    throw new UsageError("not-built", `${args.job} is not built and has no build log in its current state; run \`makes run ${args.job}\` first`);
  }
  process.stdout.write(text);
  return 0;
}
