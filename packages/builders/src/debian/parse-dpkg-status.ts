import { parseRelationField, type Relation, type RelationGroup } from "./parse-relation-field.js";

/** An installed package as recorded in the dpkg status file. */
export interface DebianPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** The raw `Status` value, e.g. `install ok installed`. */
  readonly status: string;
  readonly depends: readonly RelationGroup[];
  readonly preDepends: readonly RelationGroup[];
  /** Virtual names this package provides (alternatives are not allowed in Provides; each is one relation). */
  readonly provides: readonly Relation[];
  /** `same`, `foreign` or `allowed` when the package declares it. */
  readonly multiArch?: string;
}

/**
 * Status words under which a package's files are on disk and its dependencies count as satisfied, as dpkg
 * itself treats them: `installed`, and the two trigger states an installed package passes through.
 * Half-installed, unpacked, half-configured and config-files packages are left out.
 */
const INSTALLED_STATES = new Set(["installed", "triggers-pending", "triggers-awaited"]);

/**
 * Parses the text of a dpkg status file (`/var/lib/dpkg/status`: RFC-822-like stanzas separated by blank lines,
 * continuation lines starting with a space or tab, field names case-insensitive) and returns the packages that
 * are installed: the `Status` flag is `ok` and the state is one of INSTALLED_STATES (the want word — install,
 * hold, deinstall — does not matter: a package on hold is installed all the same). Order is the file's.
 */
export function parseDpkgStatus(text: string): DebianPackage[] {
  const packages: DebianPackage[] = [];
  for (const stanza of splitStanzas(text)) {
    const status = stanza.get("status") ?? "";
    const [, flag, state] = status.split(/\s+/);
    if (flag !== "ok" || state === undefined || !INSTALLED_STATES.has(state)) continue;
    const name = stanza.get("package");
    const version = stanza.get("version");
    const architecture = stanza.get("architecture");
    if (name === undefined || version === undefined || architecture === undefined) continue;
    const multiArch = stanza.get("multi-arch");
    packages.push({
      name,
      version,
      architecture,
      status,
      depends: parseRelationField(stanza.get("depends")),
      preDepends: parseRelationField(stanza.get("pre-depends")),
      provides: parseRelationField(stanza.get("provides")).flat(),
      ...(multiArch === undefined ? {} : { multiArch }),
    });
  }
  return packages;
}

/** Yields each stanza as a map from lower-cased field name to its value (continuation lines joined by "\n"). */
function* splitStanzas(text: string): Generator<Map<string, string>> {
  let fields = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      if (fields.size > 0) yield fields;
      fields = new Map();
      last = undefined;
    } else if (line.startsWith(" ") || line.startsWith("\t")) {
      if (last !== undefined) fields.set(last, `${fields.get(last) ?? ""}\n${line.trim()}`);
    } else {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      fields.set(last, line.slice(colon + 1).trim());
    }
  }
  if (fields.size > 0) yield fields;
}
