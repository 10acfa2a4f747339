import { closestName, ConfigError } from "@makes/core";
import { quoted } from "./quoted.js";

/**
 * Refuses a key of a builder's argument object that the builder does not read: a typo (`keepdocs`,
 * `searchPaths: { lib }`) would otherwise be dropped without a word and the build would quietly differ
 * from what was written. One message for every builder: `WHERE: unknown WHAT "key" (did you mean "k"?);
 * the WHATs are a, b, c` (or `the only WHAT is a`).
 */
export function checkKnownKeys(where: string, what: string, raw: object, known: readonly string[]): void {
  for (const key of Object.keys(raw)) {
    if (known.includes(key)) continue;
    const near = closestName(key, known);
    throw new ConfigError(
      "bad-argument",
      `${where}: unknown ${what} ${quoted(key)}${near === undefined ? "" : ` (did you mean "${near}"?)`}${known.length === 1 ? `; the only ${what} is ${known[0]}` : `; the ${what}s are ${known.join(", ")}`}`,
    );
  }
}
