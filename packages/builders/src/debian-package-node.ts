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

/**
 * `inputs.debian.<name>`: a Debian package installed on the host, its files (as dpkg lists them)
 * copied into the store. Its hash covers name, version, architecture and the doc option, so a host
 * upgrade rebuilds what uses it. Its Depends/Pre-Depends closure are its runtime deps, one node each.
 */
export class DebianPackageNode extends MakesNode {
  readonly kind = "debian";
  #runtime: MakesNode[] | undefined;

  constructor(
    readonly pkg: DebianPackage,
    readonly closure: DebianClosure,
    readonly keepDocs: boolean,
    private readonly nodeFor: (ref: string) => MakesNode,
  ) {
    super(pkg.name.replace(/[^A-Za-z0-9+._?=-]/g, "_"));
  }

  deps(): readonly MakesNode[] {
    return [];
  }

  override runtimeDeps(): readonly MakesNode[] {
    this.#runtime ??= (this.closure.dependencies.get(`${this.pkg.name}:${this.pkg.architecture}`) ?? []).map((ref) => this.nodeFor(ref));
    return this.#runtime;
  }

  async fingerprint(_ctx: FingerprintContext): Promise<Fingerprint> {
    const { name, version, architecture } = this.pkg;
    return {
      key: { name, version, architecture, keepDocs: this.keepDocs },
      inputs: { package: `${name} ${version} ${architecture}${this.keepDocs ? " (with docs)" : ""}` },
    };
  }

  async build(ctx: BuildContext): Promise<void> {
    const copied = await copyDebianPackage(this.pkg, ctx.out, { keepDocs: this.keepDocs });
    ctx.log(`${copied.name} ${copied.version} ${copied.architecture}: ${copied.files} files, ${copied.symlinks} symlinks, ${copied.directories} directories\n`);
    for (const missing of copied.missing) ctx.log(`listed but absent on this host: ${missing}\n`);
  }
}

/** Builds the node of a package and of each package of its closure, one node per package (and option set). */
export function debianPackage(name: string, options: DebianOptions = {}): MakesNode {
  const db = database();
  const keepDocs = options.keepDocs === true;
  const exclude = [...(options.exclude ?? [])].sort();
  const closure = resolveDebianClosure(db, name, { exclude });
  const nodes = new Map<string, MakesNode>();
  const nodeFor = (ref: string): MakesNode => {
    let node = nodes.get(ref);
    if (node === undefined) {
      const pkg = closure.packages.get(ref);
      if (pkg === undefined) throw new Error(`internal: ${ref} is not in the closure of ${name}`);
      node = new DebianPackageNode(pkg, closure, keepDocs, nodeFor);
      nodes.set(ref, node);
    }
    return node;
  };
  return nodeFor(`${closure.root.name}:${closure.root.architecture}`);
}
