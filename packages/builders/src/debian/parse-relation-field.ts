/**
 * One package named in a relationship field (`Depends`, `Pre-Depends`, `Provides`) of a dpkg status stanza,
 * e.g. `libc6 (>= 2.34)`, `perl:any`, `libgcc1 (= 1:12.2.0-14)`.
 */
export interface Relation {
  readonly name: string;
  /** The architecture qualifier after `:` (`any`, `native`, `amd64`), when present. */
  readonly arch?: string;
  /** The version constraint, when present. Parsed but not enforced by the resolver (see resolve-debian-closure). */
  readonly constraint?: { readonly op: "<<" | "<=" | "=" | ">=" | ">>"; readonly version: string };
}

/** A `Depends` entry: alternatives separated by `|`, the first one installed wins. */
export type RelationGroup = readonly Relation[];

const RELATION = /^([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^\s)]+)\s*\))?\s*(?:\[[^\]]*\])?\s*(?:<[^>]*>\s*)*$/i;

/** Obsolete single-character operators mean the same as their doubled/`=` forms (deb-control(5)). */
const OLD_OPS: Record<string, "<=" | ">="> = { "<": "<=", ">": ">=" };

/**
 * Parses a relationship field value into groups of alternatives: `a (>= 1) | b, c:any` → `[[a, b], [c]]`.
 * Throws on an entry that is not a package relation (the status file is the host's; a malformed one is a bug
 * worth seeing, not something to guess around).
 */
export function parseRelationField(value: string | undefined): RelationGroup[] {
  if (value === undefined || value.trim() === "") return [];
  return value.split(",").map((group) =>
    group.split("|").map((entry) => {
      const m = RELATION.exec(entry.trim());
      if (m === null || m[1] === undefined) throw new Error(`malformed dpkg relation "${entry.trim()}" in "${value}"`);
      const relation: { name: string; arch?: string; constraint?: Relation["constraint"] } = { name: m[1].toLowerCase() };
      if (m[2] !== undefined) relation.arch = m[2].toLowerCase();
      if (m[3] !== undefined && m[4] !== undefined) {
        const op = OLD_OPS[m[3]] ?? (m[3] as "<<" | "<=" | "=" | ">=" | ">>");
        relation.constraint = { op, version: m[4] };
      }
      return relation;
    }),
  );
}

/** `a (>= 1) | b:any` — for messages. */
export function formatRelationGroup(group: RelationGroup): string {
  return group
    .map((r) => `${r.name}${r.arch === undefined ? "" : `:${r.arch}`}${r.constraint === undefined ? "" : ` (${r.constraint.op} ${r.constraint.version})`}`)
    .join(" | ");
}
