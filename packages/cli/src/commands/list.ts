import type { GlobalOptions } from "../global-options.js";
import { openProject } from "../open-project.js";

export async function listCommand(args: GlobalOptions & { readonly json: boolean }): Promise<number> {
  const project = await openProject(args);
  const jobs = [...project.jobs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (args.json) {
    process.stdout.write(`${JSON.stringify(jobs.map(([job, node]) => ({ job, kind: node.kind, name: node.name })), null, 2)}\n`);
    return 0;
  }
  const width = Math.max(0, ...jobs.map(([job]) => job.length));
  for (const [job, node] of jobs) process.stdout.write(`${job.padEnd(width)}  ${node.kind}\n`);
  return 0;
}
