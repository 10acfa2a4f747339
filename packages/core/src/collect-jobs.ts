import { ConfigError } from "./errors.js";
import { encodeJob } from "./store-layout.js";
import { withoutProcessExit } from "./without-process-exit.js";
import { configThrew, missingPackage, type LoadedConfig } from "./load-config.js";
import { isMakesNode, type MakesNode } from "./makes-node.js";

/**
 * A job name: `/` then `/`-separated segments of letters, digits and `._@+-`, none of them `.` or `..`
 * (a job name is also the out-link's and the job record's file name, and `/a/../b` would be a second
 * spelling of `/b`).
 */
const JOB_NAME = /^(\/(?!\.\.?(?:\/|$))[A-Za-z0-9._@+-]+)+$/;

/**
 * The longest job name, as its out-link's file name spells it (percent-encoded, without the leading `/`): a
 * file name may have 255 bytes, and the job record's temporary file adds `.json.<pid>.<random>.tmp`.
 */
const MAX_ENCODED_JOB_NAME = 200;

export function checkJobName(name: string, where: string): void {
  if (JOB_NAME.test(name)) {
    const length = encodeJob(name).length;
    if (length <= MAX_ENCODED_JOB_NAME) return;
    throw new ConfigError("bad-job-name", `${where}: the job name ${JSON.stringify(`${name.slice(0, 60)}…`)} is too long (${length} characters as a file name; at most ${MAX_ENCODED_JOB_NAME}); use a shorter name`);
  }
  if (!name.startsWith("/") && JOB_NAME.test(`/${name}`)) {
    throw new ConfigError("bad-job-name", `${where}: the job "${name}" must start with "/"; rename it to "/${name}".`);
  }
  throw new ConfigError(
    "bad-job-name",
    `${where}: ${JSON.stringify(name)} is not a valid job name; use "/" followed by "/"-separated names of letters, digits and ._@+- (for example "/packages/web/build").`,
  );
}

async function evaluate(exported: unknown, args: object, loaded: LoadedConfig, where: string): Promise<unknown> {
  if (typeof exported !== "function") return exported;
  try {
    return await withoutProcessExit(async () => (exported as (a: object) => unknown)(args));
  } catch (err) {
    throw missingPackage(err, loaded.configPath, loaded.files) ?? configThrew(err, loaded.configPath, `while evaluating ${where}`, loaded.files);
  }
}

/**
 * Evaluates the loaded config with the builders' args into the job table. makes.ts's default export
 * is a function of the args or a plain object; either gives `{ jobs: { "/name": node } }`.
 */
export async function collectJobs(loaded: LoadedConfig, args: object): Promise<Map<string, MakesNode>> {
  const jobs = new Map<string, MakesNode>();
  const configName = loaded.configPath;
  const value = await evaluate(loaded.root, args, loaded, "its default export");
  if (value === null || typeof value !== "object" || !("jobs" in value)) {
    const got = value === undefined ? "nothing (is there an `export default`?)" : value === null ? "null" : typeof value === "object" ? "an object without `jobs`" : `a ${typeof value}`;
    throw new ConfigError(
      "config-bad-export",
      `${configName}: the default export must be a function of the builders returning { jobs: { "/name": node } }, or such an object; got ${got}.`,
    );
  }
  const table = (value as { jobs: unknown }).jobs;
  if (table === null || typeof table !== "object" || Array.isArray(table)) {
    throw new ConfigError("config-bad-export", `${configName}: \`jobs\` must be an object mapping job names such as "/build" to nodes.`);
  }
  for (const [name, node] of Object.entries(table)) {
    checkJobName(name, configName);
    if (!isMakesNode(node)) {
      throw new ConfigError(
        "config-bad-export",
        `${configName}: the job "${name}" is ${node === undefined ? "undefined" : `a ${typeof node}`}, not a node; use makeDerivation, makeScript, makeContainerImage or another builder.`,
      );
    }
    jobs.set(name, node);
  }
  for (const folder of loaded.folderJobs) {
    checkJobName(folder.job, folder.file);
    const node = await evaluate(folder.exported, args, loaded, folder.file);
    if (!isMakesNode(node)) {
      throw new ConfigError("config-bad-export", `${folder.file}: the default export must be a function of the builders returning one node (it becomes the job ${folder.job}).`);
    }
    if (jobs.has(folder.job)) {
      throw new ConfigError("config-bad-export", `${folder.file}: the job ${folder.job} is also defined in ${configName}; keep one of them.`);
    }
    jobs.set(folder.job, node);
  }
  return jobs;
}
