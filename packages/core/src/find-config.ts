import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "./errors.js";

export const CONFIG_FILE_NAME = "makes.ts";

/** makes.ts in `startDir` or the nearest directory above it; or exactly `configFile` when given. */
export function findConfig(startDir: string, configFile?: string): string {
  if (configFile !== undefined) {
    const abs = resolve(startDir, configFile);
    if (!existsSync(abs) || !statSync(abs).isFile()) {
      throw new ConfigError("config-not-found", `No config file at ${abs}; check the path given to --config.`);
    }
    return abs;
  }
  let dir = resolve(startDir);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ConfigError(
    "config-not-found",
    `No ${CONFIG_FILE_NAME} in ${resolve(startDir)} or any directory above it; create one (see the README: \`export default ({ makeDerivation }) => ({ jobs: { "/hello": ... } })\`) or pass -C DIR / --config FILE.`,
  );
}
