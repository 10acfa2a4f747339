import { readFileSync } from "node:fs";

/**
 * The version `makes --version` prints: that of @makes/cli, the package that provides the `makes`
 * command (`npm install -g ./packages/cli` installs it; the repository's root package has none). Read
 * when asked for, from its package.json one directory above this module (src/, dist/ or dist-bundle/).
 */
export function makesVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}
