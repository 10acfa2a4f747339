import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "@makes/core";
import { DpkgDatabase, loadDpkgDatabase } from "./dpkg-database.js";
import { parseDpkgStatus } from "./parse-dpkg-status.js";
import { resolveDebianClosure } from "./resolve-debian-closure.js";

/** A status file made up for the tests: one stanza per package, installed unless `status` says otherwise. */
function stanza(name: string, fields: Record<string, string> = {}): string {
  const all: Record<string, string> = { Package: name, Status: "install ok installed", Architecture: "amd64", Version: "1.0", ...fields };
  return Object.entries(all)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

function db(...stanzas: string[]): DpkgDatabase {
  return new DpkgDatabase(parseDpkgStatus(`${stanzas.join("\n\n")}\n`));
}

const base = [
  stanza("dpkg", { Depends: "tar (>= 1.28)" }),
  stanza("tar"),
  stanza("libc6", { "Multi-Arch": "same", Depends: "libgcc-s1" }),
  stanza("libgcc-s1", { "Multi-Arch": "same", Depends: "libc6 (>= 2.35)", Provides: "libgcc1 (= 1:12.2.0-14)" }),
  stanza("mawk", { Provides: "awk" }),
  stanza("perl", { "Multi-Arch": "allowed" }),
  stanza("ca-certificates", { Architecture: "all" }),
  stanza("python3", { Depends: "libc6" }),
  stanza("python3-only-dep", { Depends: "libc6" }),
  stanza("removed", { Status: "deinstall ok config-files" }),
];

describe("parseDpkgStatus", () => {
  test("keeps installed packages and parses relation fields across continuation lines", () => {
    const pkgs = parseDpkgStatus(
      [
        stanza("a", { Depends: "b (>= 2),\n c:any | d", "Pre-Depends": "e", Description: "x\n more\n .\n lines" }),
        stanza("gone", { Status: "deinstall ok config-files" }),
        stanza("held", { Status: "hold ok installed" }),
        stanza("half", { Status: "install ok half-configured" }),
      ].join("\n\n"),
    );
    assert.deepEqual(
      pkgs.map((p) => p.name),
      ["a", "held"],
    );
    const a = pkgs[0];
    assert.ok(a !== undefined);
    assert.deepEqual(a.depends, [[{ name: "b", constraint: { op: ">=", version: "2" } }], [{ name: "c", arch: "any" }, { name: "d" }]]);
    assert.deepEqual(a.preDepends, [[{ name: "e" }]]);
  });
});

describe("resolveDebianClosure on made-up data", () => {
  test("Depends and Pre-Depends, a Depends cycle kept as a graph, deterministic order", () => {
    const d = db(...base, stanza("app", { "Pre-Depends": "libc6 (>= 2.34)", Depends: "tar" }));
    const c = resolveDebianClosure(d, "app");
    assert.deepEqual(c.dependencies.get("app:amd64"), ["libc6:amd64", "tar:amd64"]);
    assert.deepEqual(c.dependencies.get("libc6:amd64"), ["libgcc-s1:amd64"]);
    assert.deepEqual(c.dependencies.get("libgcc-s1:amd64"), ["libc6:amd64"]);
    assert.deepEqual(c.cycles, [["libc6:amd64", "libgcc-s1:amd64"]]);
    assert.deepEqual(c.order, ["libc6:amd64", "libgcc-s1:amd64", "tar:amd64", "app:amd64"]);
    assert.deepEqual([...c.packages.keys()], c.order);
    assert.equal(c.root.name, "app");
  });

  test("alternatives pick the first installed one", () => {
    const d = db(...base, stanza("app", { Depends: "gawk | nawk | mawk | busybox, ca-certificates | tar" }));
    const c = resolveDebianClosure(d, "app");
    assert.deepEqual(c.dependencies.get("app:amd64"), ["ca-certificates:all", "mawk:amd64"]);
  });

  test("virtual and versioned provides resolve to the providing package", () => {
    const d = db(...base, stanza("app", { Depends: "awk, libgcc1 (>= 1:3.4)" }));
    const c = resolveDebianClosure(d, "app");
    assert.deepEqual(c.dependencies.get("app:amd64"), ["libgcc-s1:amd64", "mawk:amd64"]);
  });

  test("architecture qualifiers: :any, :native, an arch:all package and Multi-Arch: foreign", () => {
    const d = db(
      ...base,
      stanza("tool-i386", { Architecture: "i386", Depends: "perl:any, tar:native, ca-certificates, fmt" }),
      stanza("fmt", { Architecture: "amd64", "Multi-Arch": "foreign" }),
    );
    const c = resolveDebianClosure(d, "tool-i386");
    assert.deepEqual(c.dependencies.get("tool-i386:i386"), ["ca-certificates:all", "fmt:amd64", "perl:amd64", "tar:amd64"]);
  });

  test("a name installed for two architectures: the dependent's architecture wins, the root defaults to native", () => {
    const d = db(
      ...base,
      stanza("libz", { "Multi-Arch": "same", Version: "1" }),
      stanza("libz", { Architecture: "i386", "Multi-Arch": "same", Version: "1" }),
      stanza("app", { Architecture: "i386", Depends: "libz" }),
    );
    assert.deepEqual(resolveDebianClosure(d, "app").dependencies.get("app:i386"), ["libz:i386"]);
    assert.equal(resolveDebianClosure(d, "libz").root.architecture, "amd64");
    assert.equal(resolveDebianClosure(d, "libz:i386").root.architecture, "i386");
  });

  test("exclude drops the named dependency and what only it brings in", () => {
    const d = db(...base, stanza("python3-x", { Depends: "python3-only-dep" }), stanza("node", { Depends: "libc6, python3-x, ca-certificates" }));
    const full = resolveDebianClosure(d, "node");
    assert.ok(full.packages.has("python3-only-dep:amd64"));
    const c = resolveDebianClosure(d, "node", { exclude: ["python3-x"] });
    assert.deepEqual(c.dependencies.get("node:amd64"), ["ca-certificates:all", "libc6:amd64"]);
    assert.ok(!c.packages.has("python3-x:amd64"));
    assert.ok(!c.packages.has("python3-only-dep:amd64"));
  });

  test("exclude by a virtual name, and of a dependency that is not even installed", () => {
    const d = db(...base, stanza("app", { Depends: "libgcc1, not-here" }));
    const c = resolveDebianClosure(d, "app", { exclude: ["libgcc1", "not-here"] });
    assert.deepEqual(c.dependencies.get("app:amd64"), []);
    assert.deepEqual(c.order, ["app:amd64"]);
  });

  test("an exclude entry that names nothing of the closure is an error (a typo would keep what was meant to go)", () => {
    const d = db(...base, stanza("python3-x", { Depends: "python3-only-dep" }), stanza("node", { Depends: "libc6, python3-x, ca-certificates" }));
    assert.throws(
      () => resolveDebianClosure(d, "node", { exclude: ["python3-y"] }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.reason === "bad-argument" &&
        err.message ===
          'inputs.debian.node: exclude: "python3-y" is not a dependency of "node" (did you mean "python3-x"?) (its dependencies are ca-certificates, libc6, libgcc-s1, python3-only-dep, python3-x); fix the name or remove it from exclude',
    );
    assert.throws(() => resolveDebianClosure(d, "node", { exclude: ["nosuch"] }), /exclude: "nosuch" is not a dependency of "node" \(its dependencies are/);
    assert.throws(() => resolveDebianClosure(d, "tar", { exclude: ["libc6"] }), /exclude: "libc6" is not a dependency of "tar" \(it has no dependencies\)/);
    assert.throws(() => resolveDebianClosure(d, "node", { exclude: ["node"] }), /exclude: "node" is the package itself/);
    // an alternative that is not chosen is not in the closure
    const alt = db(...base, stanza("app", { Depends: "mawk | gawk" }));
    assert.throws(() => resolveDebianClosure(alt, "app", { exclude: ["gawk"] }), /"gawk" is not a dependency of "app"/);
  });

  test("exclude may name what another excluded dependency brought in, by package or by the name written", () => {
    const d = db(...base, stanza("python3-x", { Depends: "python3-only-dep" }), stanza("node", { Depends: "libc6, python3-x, awk" }));
    const c = resolveDebianClosure(d, "node", { exclude: ["python3-x", "python3-only-dep", "awk", "LIBGCC-S1:amd64"] });
    assert.deepEqual([...c.packages.keys()].sort(), ["libc6:amd64", "node:amd64"]);
    assert.deepEqual(resolveDebianClosure(d, "node", { exclude: ["mawk"] }).dependencies.get("node:amd64"), ["libc6:amd64", "python3-x:amd64"]);
  });

  test("a required dependency that is not installed names both packages and the way out", () => {
    const d = db(...base, stanza("app", { Depends: "libc6, ghost (>= 2) | phantom" }));
    assert.throws(
      () => resolveDebianClosure(d, "app"),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.reason === "package-not-installed" &&
        err.message ===
          'inputs.debian.app: the Debian package "app" depends on "ghost (>= 2) | phantom", which is not installed on this host; install it with `apt-get install ghost` or leave it out with exclude: ["ghost"]',
    );
  });

  test("a package that is removed (config-files only) does not satisfy a dependency", () => {
    const d = db(...base, stanza("app", { Depends: "removed" }));
    assert.throws(() => resolveDebianClosure(d, "app"), /depends on "removed"/);
  });

  test("a root that is not installed (bad-input case 13)", () => {
    const d = db(...base);
    assert.throws(
      () => resolveDebianClosure(d, "nosuchpackage"),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.reason === "package-not-installed" &&
        err.message ===
          'inputs.debian.nosuchpackage: the Debian package "nosuchpackage" is not installed on this host; install it with `apt-get install nosuchpackage` or check the name (dpkg -l)',
    );
    assert.throws(() => resolveDebianClosure(d, "removed"), /not installed on this host/);
    assert.throws(() => resolveDebianClosure(d, "awk"), /"awk" is a virtual Debian package provided by "mawk"; use inputs.debian.mawk instead/);
    // a suggestion that is not a JavaScript identifier is written with brackets, so that it can be pasted
    assert.throws(
      () => resolveDebianClosure(d, "libgcc1"),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message === 'inputs.debian.libgcc1: "libgcc1" is a virtual Debian package provided by "libgcc-s1"; use inputs.debian["libgcc-s1"] instead',
    );
    assert.throws(() => resolveDebianClosure(d, "lib-missing"), /^ConfigError: inputs\.debian\["lib-missing"\]: the Debian package "lib-missing" is not installed/);
  });
});

const host = await loadDpkgDatabase();

describe("resolveDebianClosure on the host's database", { skip: host.packages.length === 0 && "no dpkg database on this host" }, () => {
  test("coreutils needs libc6", async () => {
    const c = resolveDebianClosure(await loadDpkgDatabase(), "coreutils");
    assert.ok([...c.packages.values()].some((p) => p.name === "libc6"));
    assert.equal(c.order.at(-1), `coreutils:${c.root.architecture}`);
  });

  test("nodejs without python3", { skip: host.get("nodejs") === undefined && "nodejs is not installed" }, async () => {
    const hostDb = await loadDpkgDatabase();
    const withPython = resolveDebianClosure(hostDb, "nodejs");
    const c = resolveDebianClosure(hostDb, "nodejs", { exclude: ["python3"] });
    const names = [...c.packages.values()].map((p) => p.name);
    assert.ok(!names.includes("python3"), names.join(" "));
    assert.ok(!names.some((n) => n.startsWith("python3")), names.join(" "));
    assert.ok(names.includes("libc6"));
    assert.ok(c.packages.size < withPython.packages.size);
  });

  test("the database is read once per root", async () => {
    assert.equal(await loadDpkgDatabase("/"), await loadDpkgDatabase("/"));
  });
});
