import { closestNames } from "./closest-names.js";
import { UsageError } from "./errors.js";

/** A glob over job names: `*` matches within one segment, `**` across segments. */
export function jobGlob(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Resolves job names and globs to job names, in the order given; an unknown name or empty glob is a usage error. */
export function selectJobs(patterns: readonly string[], jobs: Iterable<string>): string[] {
  const names = [...jobs].sort();
  const selected = new Set<string>();
  for (const pattern of patterns) {
    const isGlob = /[*?]/.test(pattern);
    const glob = isGlob ? jobGlob(pattern) : undefined;
    const matches = glob !== undefined ? names.filter((n) => glob.test(n)) : names.filter((n) => n === pattern);
    if (matches.length === 0) {
      if (!pattern.startsWith("/")) {
        throw new UsageError("unknown-job", `Job names start with "/": did you mean "/${pattern}"?`);
      }
      const near = closestNames(pattern, names);
      const hint = near.length > 0 ? `; closest: ${near.join(", ")}` : "; there are no jobs yet";
      throw new UsageError(
        isGlob ? "no-match" : "unknown-job",
        isGlob ? `No job matches "${pattern}"${hint}. Run \`makes list\` to see all jobs.` : `No job named "${pattern}"${hint}. Run \`makes list\` to see all jobs.`,
      );
    }
    for (const m of matches) selected.add(m);
  }
  return [...selected];
}
