import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MakesNode, type BuildContext, type Fingerprint, type FingerprintContext } from "@makes/core";
import { DpkgDatabase } from "./debian/dpkg-database.js";
import { copyDebianPackage } from "./debian/package-files.js";
import { parseDpkgStatus, type DebianPackage } from "./debian/parse-dpkg-status.js";
import { resolveDebianClosure, type DebianClosure } from "./debian/resolve-debian-closure.js";

export interface DebianOptions {
  /** Keep /usr/share/{doc,man,info,lintian}; default false. */
  readonly keepDocs?: boolean;
  /** Dependencies to leave out of the closure, by name (e.g. python3 from nodejs). */
  readonly exclude?: readonly string[];
}

let hostDatabase: DpkgDatabase | undefined;

/**
 * The host's dpkg database, read once per process, synchronously: the graph is walked synchronously
 * and the status file is small (a few MB, parsed in milliseconds).
 */
function database(): DpkgDatabase {
  if (hostDatabase === undefined) {
    let text = "";
    try {
      text = readFileSync(join("/", "var/lib/dpkg/status"), "utf8");
    } catch {
      // No dpkg on this host: every package is then "not installed", which is the message the user needs.
    }
    hostDatabase = new DpkgDatabase(parseDpkgStatus(text), "/");
  }
  return hostDatabase;
}

/** A package's closure, resolved on first use: evaluating makes.ts reads no dpkg data until a graph needs it. */
export class DebianClosureRef {
  #closure: DebianClosure | undefined;
  readonly #nodes = new Map<string, DebianPackageNode>();
  /** The node the user asked for (made before the closure is known). */
  root: DebianPackageNode | undefined;

  constructor(
    readonly name: string,
    readonly options: { readonly keepDocs: boolean; readonly exclude: readonly string[] },
  ) {}

  get closure(): DebianClosure {
    this.#closure ??= resolveDebianClosure(database(), this.name, { exclude: this.options.exclude });
    return this.#closure;
  }

  /** The one node of this closure for a package ref (`name:arch`). */
  nodeFor(ref: string): DebianPackageNode {
    if (this.root !== undefined && ref === this.rootRef()) return this.root;
    let node = this.#nodes.get(ref);
    if (node === undefined) {
      const pkg = this.closure.packages.get(ref);
      if (pkg === undefined) throw new Error(`internal: ${ref} is not in the closure of ${this.name}`);
      node = new DebianPackageNode(pkg.name, this, ref);
      this.#nodes.set(ref, node);
    }
    return node;
  }

  rootRef(): string {
    return `${this.closure.root.name}:${this.closure.root.architecture}`;
  }
}

/**
 * `inputs.debian.<name>`: a Debian package installed on the host, its files (as dpkg lists them)
 * copied into the store. Its hash covers name, version, architecture and the doc option, so a host
 * upgrade rebuilds what uses it. Its Depends/Pre-Depends closure are its runtime deps, one node each.
 * The root node is made before the closure is resolved (its `ref` is then undefined).
 */
export class DebianPackageNode extends MakesNode {
  readonly kind = "debian";
  #runtime: MakesNode[] | undefined;

  constructor(
    name: string,
    private readonly closureRef: DebianClosureRef,
    private readonly ref?: string,
  ) {
    super(name.replace(/[^A-Za-z0-9+._?=-]/g, "_"));
  }

  get pkg(): DebianPackage {
    const ref = this.ref ?? this.closureRef.rootRef();
    const pkg = this.closureRef.closure.packages.get(ref);
    if (pkg === undefined) throw new Error(`internal: ${ref} is not in its own closure`);
    return pkg;
  }

  deps(): readonly MakesNode[] {
    return [];
  }

  override runtimeDeps(): readonly MakesNode[] {
    if (this.#runtime === undefined) {
      const ref = this.ref ?? this.closureRef.rootRef();
      this.#runtime = (this.closureRef.closure.dependencies.get(ref) ?? []).map((dep) => this.closureRef.nodeFor(dep));
    }
    return this.#runtime;
  }

  async fingerprint(_ctx: FingerprintContext): Promise<Fingerprint> {
    const { name, version, architecture } = this.pkg;
    const keepDocs = this.closureRef.options.keepDocs;
    return {
      key: { name, version, architecture, keepDocs },
      inputs: { package: `${name} ${version} ${architecture}${keepDocs ? " (with docs)" : ""}` },
    };
  }

  async build(ctx: BuildContext): Promise<void> {
    const copied = await copyDebianPackage(this.pkg, ctx.out, { keepDocs: this.closureRef.options.keepDocs });
    ctx.log(`${copied.name} ${copied.version} ${copied.architecture}: ${copied.files} files, ${copied.symlinks} symlinks, ${copied.directories} directories\n`);
    for (const missing of copied.missing) ctx.log(`listed but absent on this host: ${missing}\n`);
  }
}

/** The node of an installed package; its closure (and the check that it is installed) is resolved when first needed. */
export function debianPackage(name: string, options: DebianOptions = {}): MakesNode {
  const closureRef = new DebianClosureRef(name, { keepDocs: options.keepDocs === true, exclude: [...(options.exclude ?? [])].sort() });
  closureRef.root = new DebianPackageNode(name, closureRef);
  return closureRef.root;
}
