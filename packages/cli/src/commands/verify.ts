import { existsSync } from "node:fs";
import { UsageError, verifyStore } from "@makes/core";
import type { GlobalOptions } from "../global-options.js";
import { openProject } from "../open-project.js";

/** Exit 0 when every valid store path still has the content it was built with, else 1, naming each. */
export async function verifyCommand(args: GlobalOptions): Promise<number> {
  const project = await openProject(args);
  if (!existsSync(project.store.root)) {
    throw new UsageError("bad-flag", `There is no store at ${project.store.root} (nothing was built there); check --store / MAKES_STORE`);
  }
  const { checked, problems } = await verifyStore(project.store);
  for (const p of problems) process.stdout.write(`${p.problem === "modified" ? "modified" : "missing "} ${p.path}\n`);
  process.stderr.write(
    problems.length === 0
      ? `makes verify: ${checked} store paths checked, all intact\n`
      : `makes verify: ${problems.length} of ${checked} store paths changed since they were built; delete each one (rm -rf PATH) and makes rebuilds it on the next run\n`,
  );
  return problems.length === 0 ? 0 : 1;
}
