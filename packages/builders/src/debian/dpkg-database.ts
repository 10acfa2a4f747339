import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseDpkgStatus, type DebianPackage } from "./parse-dpkg-status.js";
import type { Relation } from "./parse-relation-field.js";

/** `name:arch`, the identity of an installed package (a name may be installed for several architectures). */
export function packageRef(pkg: Pick<DebianPackage, "name" | "architecture">): string {
  return `${pkg.name}:${pkg.architecture}`;
}

/**
 * The installed packages of one root, indexed by name and by the virtual names they provide.
 * Immutable once built; lookups are deterministic (candidates are returned in a fixed preference order).
 */
export class DpkgDatabase {
  readonly root: string;
  /** The host's own architecture: that of the installed `dpkg` package, else the most common non-`all` one. */
  readonly nativeArch: string;
  readonly #byName = new Map<string, DebianPackage[]>();
  readonly #providers = new Map<string, DebianPackage[]>();
  readonly #all: readonly DebianPackage[];

  constructor(packages: readonly DebianPackage[], root = "/") {
    this.root = root;
    this.#all = packages;
    for (const pkg of packages) {
      push(this.#byName, pkg.name, pkg);
      for (const provided of pkg.provides) push(this.#providers, provided.name, pkg);
    }
    for (const list of [...this.#byName.values(), ...this.#providers.values()]) list.sort(byRef);
    this.nativeArch = this.#byName.get("dpkg")?.[0]?.architecture ?? mostCommonArch(packages);
  }

  get packages(): readonly DebianPackage[] {
    return this.#all;
  }

  /**
   * The installed package called `spec` (`name`, or `name:arch`). With no arch and several installed
   * architectures, the native one, then `all`, then the first by name is chosen.
   */
  get(spec: string): DebianPackage | undefined {
    const [name = "", arch] = spec.toLowerCase().split(":", 2);
    const real = this.#byName.get(name) ?? [];
    if (arch !== undefined && arch !== "any") return real.find((p) => p.architecture === (arch === "native" ? this.nativeArch : arch));
    return real.find((p) => p.architecture === this.nativeArch) ?? real.find((p) => p.architecture === "all") ?? real[0];
  }

  /** Installed packages that provide the virtual name `name` (any architecture), sorted by ref. */
  providersOf(name: string): readonly DebianPackage[] {
    return this.#providers.get(name.toLowerCase()) ?? [];
  }

  /**
   * Installed packages that satisfy `relation` when `from` depends on it, best first: packages of that name, then
   * packages providing it (sorted by name). Architecture follows dpkg's multi-arch rules, leniently:
   * - `name:any` accepts any architecture; `name:native` the native one (or `all`); `name:amd64` that one;
   * - an unqualified name accepts the depending package's architecture, `all`, and `Multi-Arch: foreign`
   *   packages (an `all` depender counts as native). If nothing matches that way, any installed architecture is
   *   accepted rather than failing: the host's dpkg accepted the installation, so the dependency is there.
   * Version constraints are not checked (the host's installed version is the only one there is).
   */
  candidates(relation: Relation, from?: DebianPackage): DebianPackage[] {
    const named = this.#byName.get(relation.name) ?? [];
    const provided = this.providersOf(relation.name).filter((p) => !named.includes(p));
    const all = [...named, ...provided];
    const strict = all.filter((p) => this.#archMatches(relation, p, from));
    return strict.length > 0 ? strict : all;
  }

  #archMatches(relation: Relation, candidate: DebianPackage, from: DebianPackage | undefined): boolean {
    const arch = relation.arch;
    if (arch === "any") return true;
    if (arch === "native") return candidate.architecture === this.nativeArch || candidate.architecture === "all";
    if (arch !== undefined) return candidate.architecture === arch;
    const fromArch = from === undefined || from.architecture === "all" ? this.nativeArch : from.architecture;
    return candidate.architecture === fromArch || candidate.architecture === "all" || candidate.multiArch === "foreign";
  }
}

const cache = new Map<string, Promise<DpkgDatabase>>();

/**
 * Reads `<root>/var/lib/dpkg/status` once per root for the life of the process (a build sees one consistent
 * database even if apt runs meanwhile). A missing status file yields an empty database, so every package lookup
 * then fails with the usual "not installed" error rather than an fs error.
 */
export function loadDpkgDatabase(root = "/"): Promise<DpkgDatabase> {
  let db = cache.get(root);
  if (db === undefined) {
    db = readStatus(root).then((text) => new DpkgDatabase(parseDpkgStatus(text), root));
    db.catch(() => cache.delete(root));
    cache.set(root, db);
  }
  return db;
}

async function readStatus(root: string): Promise<string> {
  try {
    return await readFile(join(root, "var/lib/dpkg/status"), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function byRef(a: DebianPackage, b: DebianPackage): number {
  const x = packageRef(a);
  const y = packageRef(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function mostCommonArch(packages: readonly DebianPackage[]): string {
  const counts = new Map<string, number>();
  for (const p of packages) if (p.architecture !== "all") counts.set(p.architecture, (counts.get(p.architecture) ?? 0) + 1);
  let best = "all";
  let bestCount = 0;
  for (const [arch, n] of [...counts].sort()) if (n > bestCount) [best, bestCount] = [arch, n];
  return best;
}
