import { closestName, ConfigError } from "@makes/core";
import { packageRef, type DpkgDatabase } from "./dpkg-database.js";
import type { DebianPackage } from "./parse-dpkg-status.js";
import { formatRelationGroup, type RelationGroup } from "./parse-relation-field.js";
import { debianAccessor } from "./debian-accessor.js";

export interface DebianClosureOptions {
  /**
   * Dependencies to leave out, by package name (`python3`) or by the name a dependency is written with
   * (`libgcc1`, a virtual name): such a dependency edge is dropped, and with it whatever only it brought in.
   * The root package itself is always included.
   */
  readonly exclude?: readonly string[];
}

/** The runtime dependency graph of one installed package. Keys are package refs (`name:arch`, see packageRef). */
export interface DebianClosure {
  readonly root: DebianPackage;
  /** Every package in the closure, root included, in `order`. */
  readonly packages: ReadonlyMap<string, DebianPackage>;
  /** Direct dependencies (Depends + Pre-Depends, resolved) of each package: refs, sorted, without duplicates or self. */
  readonly dependencies: ReadonlyMap<string, readonly string[]>;
  /**
   * Deterministic order, dependencies before dependents; the members of a cycle are next to each other, sorted
   * by ref. The root is last.
   */
  readonly order: readonly string[];
  /** Strongly connected groups of more than one package (Depends cycles, e.g. libc6 ↔ libgcc-s1), each sorted. */
  readonly cycles: readonly (readonly string[])[];
}

/**
 * Resolves the runtime closure of the installed package `name` (`name` or `name:arch`) from `Depends` and
 * `Pre-Depends`:
 * - alternatives `a | b`: the first alternative that has an installed candidate is taken;
 * - a name that is not an installed package resolves through `Provides` (virtual packages, and transitional
 *   names such as `libgcc1` → `libgcc-s1` provided with a version); several providers: the first by name;
 * - architecture qualifiers (`:any`, `:native`, `:amd64`) as in DpkgDatabase.candidates;
 * - version constraints are parsed but not enforced: the host has exactly one installed version of each
 *   package, and dpkg already accepted it, so there is nothing to choose between;
 * - cycles are kept (the result is a graph) and reported in `cycles`.
 *
 * A required dependency with no installed candidate is a ConfigError naming the package that needs it and the
 * missing dependency, unless one of its alternatives is excluded. Choice: a user expects the closure to be
 * what makes the package work, so silently shipping an image without a dependency would fail later and far
 * away (at run time inside a container); a host whose dpkg database is inconsistent (for example after
 * `dpkg --force-depends`) gets an error that says how to proceed, installing it or listing it in `exclude`.
 * An excluded dependency is never an error and is not replaced by another alternative: exclusion drops the edge.
 *
 * A root that is not installed is a ConfigError `package-not-installed` (case 13 of the bad-input cases).
 *
 * An `exclude` entry that names nothing of the closure is a ConfigError too: it is most likely a typo
 * (`pyhton3`), which would otherwise leave in the image what the user meant to keep out. "Of the closure"
 * means of the closure without any exclusion, so that listing a package another excluded one brought
 * in (`python3` and `python3-minimal`) is fine. It can only be known once the dpkg database is read, which
 * is when the graph is walked, before anything is built.
 */
export function resolveDebianClosure(db: DpkgDatabase, name: string, options: DebianClosureOptions = {}): DebianClosure {
  const exclude = new Set((options.exclude ?? []).map(excludeKey));
  const root = db.get(name);
  if (root === undefined) throw notInstalled(db, name);
  if (exclude.size > 0) checkExcludes(db, root, options.exclude ?? []);

  const packages = new Map<string, DebianPackage>();
  const dependencies = new Map<string, string[]>();
  const queue: DebianPackage[] = [root];
  packages.set(packageRef(root), root);
  while (queue.length > 0) {
    const pkg = queue.shift() as DebianPackage;
    const deps = new Set<string>();
    for (const group of [...pkg.preDepends, ...pkg.depends]) {
      const dep = resolveGroup(db, pkg, group, exclude, root);
      if (dep === undefined) continue;
      const ref = packageRef(dep);
      if (ref === packageRef(pkg)) continue;
      deps.add(ref);
      if (!packages.has(ref)) {
        packages.set(ref, dep);
        queue.push(dep);
      }
    }
    dependencies.set(packageRef(pkg), [...deps].sort());
  }

  const components = stronglyConnected(packageRef(root), dependencies);
  const order = components.flat();
  return {
    root,
    packages: new Map(order.map((ref) => [ref, packages.get(ref) as DebianPackage])),
    dependencies,
    order,
    cycles: components.filter((c) => c.length > 1),
  };
}

/** The package chosen for one `Depends` group, or undefined when the group is dropped by `exclude`. */
function resolveGroup(
  db: DpkgDatabase,
  pkg: DebianPackage,
  group: RelationGroup,
  exclude: ReadonlySet<string>,
  root: DebianPackage,
): DebianPackage | undefined {
  for (const relation of group) {
    const chosen = db.candidates(relation, pkg)[0];
    if (chosen === undefined) continue;
    if (exclude.has(relation.name) || exclude.has(chosen.name)) return undefined;
    return chosen;
  }
  if (group.some((r) => exclude.has(r.name))) return undefined;
  const wanted = formatRelationGroup(group);
  const first = group[0]?.name ?? wanted;
  throw new ConfigError(
    "package-not-installed",
    `${debianAccessor(root.name)}: the Debian package "${pkg.name}" depends on "${wanted}", which is not installed on this host; install it with \`apt-get install ${first}\` or leave it out with exclude: ["${first}"]`,
  );
}

/** An exclude entry as dependency names are compared: lower case, without an architecture qualifier. */
function excludeKey(name: string): string {
  return name.toLowerCase().split(":", 1)[0] ?? "";
}

/** How many names of the closure an unknown-exclude message lists before "…". */
const SHOWN_NAMES = 8;

function checkExcludes(db: DpkgDatabase, root: DebianPackage, excludes: readonly string[]): void {
  const names = namesInClosure(db, root);
  for (const entry of excludes) {
    if (names.has(excludeKey(entry))) continue;
    const shownEntry = JSON.stringify(entry.length > 80 ? `${entry.slice(0, 80)}…` : entry);
    if (excludeKey(entry) === root.name) {
      throw new ConfigError("bad-argument", `${debianAccessor(root.name)}: exclude: ${shownEntry} is the package itself; exclude leaves out dependencies, the package is always included, so remove it from exclude`);
    }
    const sorted = [...names].filter((n) => n !== root.name).sort();
    const near = closestName(entry, sorted);
    const listed = sorted.length === 0 ? "it has no dependencies" : `its dependencies are ${sorted.slice(0, SHOWN_NAMES).join(", ")}${sorted.length > SHOWN_NAMES ? ", …" : ""}`;
    throw new ConfigError(
      "bad-argument",
      `${debianAccessor(root.name)}: exclude: ${shownEntry} is not a dependency of "${root.name}"${near === undefined ? "" : ` (did you mean "${near}"?)`} (${listed}); fix the name or remove it from exclude`,
    );
  }
}

/**
 * Every name an exclude entry can match in the closure of `root` taken without exclusions, as resolveGroup
 * compares them: in each Depends group, the names written up to the alternative that is chosen and the
 * package chosen; all of a group's names when none is installed (excluding one is the way out).
 */
function namesInClosure(db: DpkgDatabase, root: DebianPackage): Set<string> {
  const names = new Set<string>();
  const seen = new Set<string>([packageRef(root)]);
  const queue: DebianPackage[] = [root];
  while (queue.length > 0) {
    const pkg = queue.shift() as DebianPackage;
    for (const group of [...pkg.preDepends, ...pkg.depends]) {
      for (const relation of group) {
        names.add(relation.name);
        const chosen = db.candidates(relation, pkg)[0];
        if (chosen === undefined) continue;
        names.add(chosen.name);
        if (!seen.has(packageRef(chosen))) {
          seen.add(packageRef(chosen));
          queue.push(chosen);
        }
        break;
      }
    }
  }
  return names;
}

function notInstalled(db: DpkgDatabase, name: string): ConfigError {
  const bare = name.split(":", 1)[0] ?? name;
  const providers = db.providersOf(bare).map((p) => p.name);
  if (providers.length > 0) {
    return new ConfigError(
      "package-not-installed",
      `${debianAccessor(bare)}: "${bare}" is a virtual Debian package provided by ${providers.map((p) => `"${p}"`).join(", ")}; use ${debianAccessor(providers[0] ?? "")} instead`,
    );
  }
  return new ConfigError(
    "package-not-installed",
    `${debianAccessor(bare)}: the Debian package "${name}" is not installed on this host; install it with \`apt-get install ${name}\` or check the name (dpkg -l)`,
  );
}

/**
 * Tarjan's algorithm from `start`, following sorted edges: components come out dependencies first, which with
 * sorted members makes the order deterministic. Iterative, so deep dependency chains cannot overflow the stack.
 */
function stronglyConnected(start: string, edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const work: { node: string; next: number }[] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) as number);
    stack.push(node);
    onStack.add(node);
    work.push({ node, next: 0 });
  };
  visit(start);
  while (work.length > 0) {
    const frame = work[work.length - 1] as { node: string; next: number };
    const targets = edges.get(frame.node) ?? [];
    if (frame.next < targets.length) {
      const target = targets[frame.next++] as string;
      if (!index.has(target)) visit(target);
      else if (onStack.has(target)) low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(target) as number));
      continue;
    }
    work.pop();
    const parent = work[work.length - 1];
    if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
    if (low.get(frame.node) === index.get(frame.node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      components.push(component.sort());
    }
  }
  return components;
}
