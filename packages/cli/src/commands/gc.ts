import { collectGarbage, UsageError } from "@makes/core";
import { pruneLayerCache } from "@makes/builders";
import type { GlobalOptions } from "../global-options.js";
import { openProject } from "../open-project.js";
import { plural } from "../plural.js";

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number {
  const match = /^(\d+)([smhdw])$/.exec(text);
  if (match === null) throw new UsageError("bad-flag", `--keep-since takes a duration such as 30m, 12h or 7d (got "${text}")`);
  return Number(match[1]) * (UNITS[match[2] ?? "s"] ?? 1000);
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export async function gcCommand(args: GlobalOptions & { readonly keepSince: string | undefined }): Promise<number> {
  const keepSinceMs = args.keepSince === undefined ? undefined : parseDuration(args.keepSince);
  const project = await openProject(args);
  const result = await collectGarbage(project.store, { keepSinceMs, dryRun: args.dryRun, jobs: new Set(project.jobs.keys()) });
  for (const job of result.staleJobs) process.stderr.write(`makes gc: ${job} is no longer a job of ${project.shown(project.loaded.configPath)}; ${args.dryRun ? "would drop" : "dropped"} its out-link\n`);
  const layers = await pruneLayerCache(project.store.root, { dryRun: args.dryRun });
  for (const entry of result.removed) process.stdout.write(`${args.dryRun ? "would remove" : "removed"} ${entry}\n`);
  const freed = formatBytes(result.freedBytes + layers.bytes);
  process.stderr.write(
    `makes gc: ${args.dryRun ? "would free" : "freed"} ${freed} (${plural(result.removed.length, "store path")} and ${plural(layers.blobs, "cached layer")} removed, ${plural(result.kept, "store path")} kept)\n`,
  );
  return 0;
}
