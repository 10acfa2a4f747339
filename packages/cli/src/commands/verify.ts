import { existsSync } from "node:fs";
import { repairStore, UsageError, verifyStore } from "@makes/core";
import { repairLayerCache, verifyLayerCache } from "@makes/builders";
import type { GlobalOptions } from "../global-options.js";
import { openProject } from "../open-project.js";
import { plural } from "../plural.js";

/**
 * Exit 0 when every valid store path and every cached layer blob still has the content it was made with,
 * else 1, naming each on stdout. With --repair what changed is removed (exit 0), and the next run rebuilds it.
 */
export async function verifyCommand(args: GlobalOptions & { readonly repair: boolean }): Promise<number> {
  const project = await openProject(args);
  const root = project.store.root;
  if (!existsSync(root)) {
    throw new UsageError("bad-flag", `There is no store at ${root} (nothing was built there); check --store / MAKES_STORE`);
  }
  const store = await verifyStore(project.store);
  const layers = await verifyLayerCache(root);
  for (const p of store.problems) process.stdout.write(`${p.problem === "modified" ? "modified" : "missing "} ${p.path}\n`);
  for (const path of layers.modified) process.stdout.write(`modified ${path}\n`);
  const bad = store.problems.length + layers.modified.length;
  const counts = `${plural(store.checked, "store path")} and ${plural(layers.checked, "cached layer")} checked`;
  if (bad === 0) {
    process.stderr.write(`makes verify: ${counts}, all intact\n`);
    return 0;
  }
  if (args.repair) {
    await repairStore(project.store, store.problems);
    await repairLayerCache(root, layers.modified);
    process.stderr.write(`makes verify: ${counts}; removed the ${bad} that changed, the next run rebuilds what needs them\n`);
    return 0;
  }
  process.stderr.write(`makes verify: ${counts}; ${bad} changed since they were made; run \`makes verify --repair\` to remove them, and the next run rebuilds them\n`);
  return 1;
}
