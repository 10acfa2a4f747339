/**
 * Hostile values (issue 5): random values — wrong types, huge strings, NUL bytes, `..` paths, odd unicode
 * (lone surrogates, RTL overrides, newlines), nested objects, arrays, functions (thunks that throw or
 * return nonsense), symbols, null — given to every builder's arguments: makeDerivation, makeScript,
 * makeContainerImage (and its `config`), fetchUrl, fetchArchive, projectPath, inputs.debian.package and
 * inputs.debian.<name>. In-process, each call (and the graph walk that calls env thunks, `deps()`) either
 * gives a node or throws a MakesError whose message is one line of reasonable length — never another
 * error type. Then a sample through the real CLI: exit 2, no stack trace, no "internal error", and the
 * store exactly as it was.
 *
 * fast-check prints `seed` and `path` of a failure; replay with MAKES_FC_SEED / MAKES_FC_PATH.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { createMakesArgs, fetchArchive, fetchUrl, makeContainerImage, makeDerivation, makeScript } from "@makes/builders";
import { isMakesNode, MakesError, type MakesNode } from "@makes/core";
import { makeProject, runMakes, shown, tempDir } from "../helpers/project.ts";
import { figures, SLOW } from "./support.ts";

const RUNS = Number(process.env.MAKES_FC_RUNS ?? (SLOW ? 3000 : 250));
const E2E_CASES = SLOW ? 60 : 12;
/** A message is one line, and short enough to read: a 1 MB value must not be echoed whole. */
const MAX_MESSAGE = 1000;

const args = createMakesArgs();
const validNode = makeDerivation({ name: "valid", builder: "mkdir -p $out" });

const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom(
    "", " ", ".", "..", "../..", "/..", "/../etc", "/a/../../b", "/./..", "a\0b", "\0", "/\0", "/src\0", "\u202e/txt.exe", "\u200b",
    "\ud800", "\udfff", "a\ud800b", "💥".repeat(100), "x".repeat(1_000_000), "a\nb", "\r\n", "line1\nline2\n", "$(touch /tmp/pwned)", "${out}",
    "%s%n", "__proto__", "constructor", "toString", "hasOwnProperty", "then", "/dev/null", "/etc/passwd", "/", "//", "~", "C:\\x", "NUL",
    "https://example.com/\n../x", "http://[::1]:99999/", "file:///etc/passwd", "javascript:alert(1)", "ftp://x/y", "https://", "https://h/%zz",
    "https://user:pw@example.com/a.tar.gz", `https://example.com/${"a".repeat(5000)}`, "sha256-" + "A".repeat(44), "f".repeat(64), "F".repeat(64), "g".repeat(64),
    "FOO=bar", "=x", "A=\0", "80/tcp", "99999/udp", "SIGTERM", "SIGKILL\n", "latest", ".hidden", "-dash", "UPPER", "a:b", "a@b",
  ),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 4 },
  {
    arbitrary: fc.anything({
      maxDepth: 3,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
      withSparseArray: true,
      withObjectString: true,
      withBoxedValues: true,
      withUnicodeString: true,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.constantFrom<unknown>(
      null, undefined, NaN, Infinity, -Infinity, -0, 0, -1, 2.5, 1e308, 2 ** 53, true, false, 10n, Symbol("s"), Symbol.iterator,
      () => "thunk", () => { throw new Error("a thunk threw"); }, () => Symbol("from a thunk"), () => "nul\0inside", () => undefined, () => ({}), () => validNode,
      class Klass {}, [], {}, [[[]]], [null], [undefined], Object.create(null), new Proxy({}, {}), new Date(NaN), /re/g, new Error("an error value"),
      Promise.resolve("later"), new Map([["a", 1]]), new Uint8Array(3), { [Symbol("k")]: 1 }, { toString: () => "custom" }, { valueOf: () => 42 },
      { __proto__: null, name: "x" }, JSON.parse('{"__proto__": {"polluted": true}}'), validNode, [validNode], { bin: [validNode] }, { a: { b: { c: { d: {} } } } },
    ),
    weight: 3,
  },
);

/** A field is either absent, valid, or hostile. */
const field = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof(valid, hostileValue);
const keyString = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), hostileString);
const hostileRecord = (shape: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: fc.record(shape, { requiredKeys: [] }), weight: 4 },
    { arbitrary: fc.tuple(fc.record(shape, { requiredKeys: [] }), keyString, hostileValue).map(([o, k, v]) => ({ ...(o as object), [k]: v })), weight: 1 },
    { arbitrary: hostileValue, weight: 1 },
  );
const envArb = field(fc.dictionary(keyString, hostileValue, { maxKeys: 4 }));
const nodesArb = field(fc.array(fc.oneof(fc.constant(validNode), hostileValue), { maxLength: 3 }));
const storeName = fc.stringMatching(/^[a-z][a-z0-9._-]{0,12}$/);

const derivationArgs = hostileRecord({
  name: field(storeName),
  builder: field(fc.constant("mkdir -p $out")),
  env: envArb,
  searchPaths: field(fc.record({ bin: nodesArb }, { requiredKeys: [] })),
  outputHash: field(fc.constant("0".repeat(64))),
  runtimeDeps: nodesArb,
});
const scriptArgs = hostileRecord({ name: field(storeName), entrypoint: field(fc.constant("echo hi")), env: envArb, searchPaths: field(fc.record({ bin: nodesArb })) });
const configKeys = fc.constantFrom("Env", "Entrypoint", "Cmd", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "StopSignal");
const configArb = field(
  fc.oneof(
    fc.dictionary(fc.oneof(configKeys, keyString), hostileValue, { maxKeys: 4 }),
    fc.dictionary(configKeys, fc.oneof(fc.array(hostileString, { maxLength: 3 }), fc.dictionary(hostileString, fc.oneof(fc.constant({}), hostileValue), { maxKeys: 3 }), hostileString), { maxKeys: 4 }),
  ),
);
const imageArgs = hostileRecord({
  layers: nodesArb,
  maxLayers: field(fc.integer({ min: 1, max: 100 })),
  config: configArb,
  name: field(fc.constantFrom("app", "example.com/team/app")),
  tag: field(fc.constant("v1")),
  fromImage: hostileValue,
  fromImageTag: hostileValue,
  architecture: field(fc.constant("amd64")),
  os: field(fc.constant("linux")),
  created: field(fc.constant("2024-01-01T00:00:00Z")),
});
const fetchArgs = hostileRecord({
  url: field(fc.constantFrom("https://example.com/a.tar.gz", "http://example.com/f")),
  sha256: field(fc.constant("a".repeat(64))),
  name: field(storeName),
});

type Outcome = "node" | "error";

/** Runs fn; a node or a MakesError with a one-line, bounded message is fine; anything else fails with what happened. */
function judge(what: string, fn: () => unknown): Outcome {
  let result: unknown;
  try {
    result = fn();
    if (!isMakesNode(result)) throw new assert.AssertionError({ message: `${what} returned ${String(typeof result)}, neither a node nor an error` });
    // The graph walk: env thunks are called here (deps), and runtime deps are read.
    (result as MakesNode).deps();
    (result as MakesNode).runtimeDeps();
    return "node";
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    if (!(err instanceof MakesError)) {
      throw new assert.AssertionError({ message: `${what} threw ${err instanceof Error ? `${err.constructor.name}: ${err.message}\n${err.stack ?? ""}` : `a non-error ${String(err)}`}` });
    }
    const message = err.message;
    if (typeof message !== "string" || message.trim() === "") throw new assert.AssertionError({ message: `${what}: a MakesError without a message` });
    if (/[\r\n]/.test(message)) throw new assert.AssertionError({ message: `${what}: the message is not one line: ${JSON.stringify(message.slice(0, 400))}` });
    if (message.length > MAX_MESSAGE) throw new assert.AssertionError({ message: `${what}: a ${message.length}-character message: ${JSON.stringify(message.slice(0, 200))}…` });
    return "error";
  }
}

const builders: Array<[string, fc.Arbitrary<unknown>, (value: unknown) => unknown]> = [
  ["makeDerivation", derivationArgs, (v) => makeDerivation(v as never)],
  ["makeScript", scriptArgs, (v) => makeScript(v as never)],
  ["makeContainerImage", imageArgs, (v) => makeContainerImage(v as never)],
  ["fetchUrl", fetchArgs, (v) => fetchUrl(v as never)],
  ["fetchArchive", fetchArgs, (v) => fetchArchive(v as never)],
  ["projectPath", field(fc.constantFrom("/", "/src", "/a/b")), (v) => args.projectPath(v as never)],
  [
    "inputs.debian.package",
    fc.tuple(field(fc.constantFrom("coreutils", "bash", "nosuchpackage-xyz")), hostileRecord({ keepDocs: field(fc.boolean()), exclude: field(fc.array(fc.constantFrom("libc6", "python3"))) })),
    (v) => {
      const [name, options] = v as [unknown, unknown];
      return (args.inputs.debian.package as (n: unknown, o?: unknown) => unknown)(name, options);
    },
  ],
  // `then` and `toJSON` are undefined on purpose (so `await inputs.debian` and JSON.stringify work): checked apart below
  ["inputs.debian.<name>", hostileString.filter((s) => s !== "then" && s !== "toJSON"), (v) => (args.inputs.debian as Record<string, unknown>)[v as string]],
];

for (const [name, arb, call] of builders) {
  test(`${name}: hostile arguments give a node or a one-line MakesError (${RUNS} cases)`, { timeout: 300_000 }, async (t) => {
    const seed = process.env.MAKES_FC_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.MAKES_FC_SEED);
    const path = process.env.MAKES_FC_PATH;
    console.log(`${name}: fast-check seed=${seed} runs=${RUNS}`);
    const counts = { node: 0, error: 0 };
    try {
      fc.assert(
        fc.property(arb, (value) => {
          counts[judge(name, () => call(value))]++;
        }),
        { seed, numRuns: RUNS, includeErrorInReport: true, ...(path === undefined ? {} : { path }) },
      );
    } catch (err) {
      throw new Error(`${name}: hostile value property failed (seed=${seed}; replay: MAKES_FC_SEED=${seed} MAKES_FC_PATH=<path above>)\n${err instanceof Error ? err.message : String(err)}`);
    }
    t.diagnostic(figures(`hostile ${name}`, { seed, cases: RUNS, nodes: counts.node, errors: counts.error }));
  });
}

// The config alone (every other field valid), so that the validation of `config` is always reached.
const configOnly = fc.record({ layers: fc.constant([validNode]), config: configArb });
test(`makeContainerImage config: hostile config values give a node or a one-line MakesError (${RUNS} cases)`, (t) => {
  const seed = process.env.MAKES_FC_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.MAKES_FC_SEED);
  const path = process.env.MAKES_FC_PATH;
  console.log(`makeContainerImage config: fast-check seed=${seed} runs=${RUNS}`);
  const counts = { node: 0, error: 0 };
  fc.assert(
    fc.property(configOnly, (value) => {
      counts[judge("makeContainerImage config", () => makeContainerImage(value as never))]++;
    }),
    { seed, numRuns: RUNS, includeErrorInReport: true, ...(path === undefined ? {} : { path }) },
  );
  t.diagnostic(figures("hostile makeContainerImage config", { seed, cases: RUNS, nodes: counts.node, errors: counts.error }));
});

test("makeContainerImage: sparse Env, Entrypoint and Cmd arrays are refused (their holes would be null in the image config)", () => {
  for (const key of ["Env", "Entrypoint", "Cmd"]) {
    const value = key === "Env" ? ["A=1", , "B=2"] : ["/bin/sh", , "-c"]; // eslint-disable-line no-sparse-arrays
    assert.throws(() => makeContainerImage({ config: { [key]: value } } as never), MakesError, `config.${key} with a hole was accepted`);
  }
});

test("inputs.debian.then and inputs.debian.toJSON are undefined (the object is not a thenable)", () => {
  const debian = args.inputs.debian as Record<string, unknown>;
  assert.equal(debian["then"], undefined);
  assert.equal(debian["toJSON"], undefined);
});

// ---------------------------------------------------------------------------------------------------------
// Through the real CLI: each case has at least one argument that is certainly wrong.

interface E2eCase {
  readonly what: string;
  readonly call: string;
}

/** Source text of values that are certainly invalid for the field they are put in. */
const INVALID: Record<string, string[]> = {
  name: ['"has space"', '"a/b"', '""', "null", "42", 'Symbol("s")', '"x".repeat(100000)', '"nul\\u0000"', '"\\u202e"', '"../.."', "[]", "() => 'x'"],
  builder: ["undefined", "null", "42", '"a\\u0000b"', '{ nested: { deep: [] } }', 'Symbol("b")', "[\"mkdir\", \"$out\"]"],
  env: ['{ "not an id": "x" }', '{ out: "x" }', '{ PATH: "/bin" }', '{ X: null }', '{ X: [1] }', '{ X: NaN }', '{ X: "nul\\u0000" }', '"env"', "[]", '{ X: { y: 1 } }', '{ X: 10n }', '{ X: () => { throw new Error("thunk") } }', '{ X: () => "nul\\u0000" }'],
  config: ['{ Env: "A=1" }', '{ Entrypoint: "/bin/sh" }', '{ ExposedPorts: ["80"] }', '{ Cmd: [1] }', '{ Bogus: 1 }', '{ "Multi\\nLine": 1 }', '"config"', "[]", '{ Env: [null] }', '{ Volumes: { "relative": {} } }', '{ Labels: { a: 1 } }', '{ StopSignal: "TERM\\n" }', '{ WorkingDir: "" }', '{ User: 7 }'],
  url: ['"not a url"', '"ftp://example.com/x"', "null", '"file:///etc/passwd"', '"https://example.com/\\n../x"', '"x".repeat(100000)'],
  path: ['"src"', '"/../etc"', '"/a/../../b"', '"/a\\u0000b"', "null", "42", '"../x"'],
  debian: ['"Not-Valid"', '"../../etc"', '"a\\u0000b"', "null", "{}", '"x".repeat(5000)'],
};

const caseArb: fc.Arbitrary<E2eCase> = fc.oneof(
  fc.tuple(fc.constantFrom(...(INVALID.name ?? [])), fc.constantFrom(...(INVALID.builder ?? []), '"mkdir -p $out"'), fc.constantFrom(...(INVALID.env ?? []), "{}"))
    .map(([n, b, e]) => ({ what: `makeDerivation name=${n}`, call: `makeDerivation({ name: ${n}, builder: ${b}, env: ${e} })` })),
  fc.tuple(fc.constantFrom(...(INVALID.builder ?? [])), fc.constantFrom(...(INVALID.env ?? []), "{}"))
    .map(([b, e]) => ({ what: `makeDerivation builder=${b}`, call: `makeDerivation({ name: "ok", builder: ${b}, env: ${e} })` })),
  fc.constantFrom(...(INVALID.env ?? [])).map((e) => ({ what: `makeDerivation env=${e}`, call: `makeDerivation({ name: "ok", builder: "mkdir -p $out", env: ${e} })` })),
  fc.constantFrom(...(INVALID.name ?? [])).map((n) => ({ what: `makeScript name=${n}`, call: `makeScript({ name: ${n}, entrypoint: "echo hi" })` })),
  fc.constantFrom(...(INVALID.config ?? [])).map((c) => ({ what: `makeContainerImage config=${c}`, call: `makeContainerImage({ layers: [makeDerivation({ name: "l", builder: "mkdir -p $out" })], config: ${c} })` })),
  fc.constantFrom(...(INVALID.url ?? [])).map((u) => ({ what: `fetchUrl url=${u}`, call: `fetchUrl({ url: ${u}, sha256: "${"a".repeat(64)}" })` })),
  fc.constantFrom(...(INVALID.path ?? [])).map((p) => ({ what: `projectPath ${p}`, call: `makeDerivation({ name: "p", env: { src: projectPath(${p}) }, builder: "cp -r $src $out" })` })),
  fc.constantFrom(...(INVALID.debian ?? [])).map((d) => ({ what: `inputs.debian.package ${d}`, call: `makeContainerImage({ layers: [inputs.debian.package(${d})] })` })),
);

/** Everything under the store: path → type, mode and content digest (or link target). */
async function snapshotTree(root: string): Promise<Record<string, string>> {
  const snap: Record<string, string> = {};
  const visit = async (abs: string, rel: string): Promise<void> => {
    const st = await lstat(abs).catch(() => undefined);
    if (st === undefined) return;
    if (st.isSymbolicLink()) snap[rel] = `-> ${await readlink(abs)}`;
    else if (st.isDirectory()) {
      snap[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
      for (const name of (await readdir(abs)).sort()) await visit(join(abs, name), `${rel}/${name}`);
    } else snap[rel] = `file ${(st.mode & 0o7777).toString(8)} ${createHash("sha256").update(await readFile(abs)).digest("hex")}`;
  };
  await visit(root, "");
  return snap;
}

test(`hostile values through the real CLI: exit 2, one clear message, the store unchanged (${E2E_CASES} cases)`, { timeout: 300_000 }, async (t) => {
  const seed = process.env.MAKES_FC_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.MAKES_FC_SEED);
  console.log(`hostile e2e: seed=${seed} cases=${E2E_CASES}`);
  const cases = fc.sample(caseArb, { seed, numRuns: E2E_CASES });
  const project = await makeProject(t, {
    "makes.ts": 'export default ({ makeDerivation }: any) => ({ jobs: { "/good": makeDerivation({ name: "good", builder: "mkdir -p $out; echo good > $out/x" }) } });\n',
    "src/a.txt": "a\n",
  });
  const store = join(await tempDir(t, "makes-hostile-store-"), "store");
  const good = await runMakes(project, ["run", "/good", "--store", store]);
  assert.equal(good.code, 0, shown(good));
  const before = await snapshotTree(store);
  const failures: string[] = [];
  for (const c of cases) {
    const bad = await makeProject(t, {
      "makes.ts": `export default ({ makeDerivation, makeScript, makeContainerImage, fetchUrl, projectPath, inputs }: any) => ({\n  jobs: { "/good": makeDerivation({ name: "good", builder: "mkdir -p $out; echo good > $out/x" }), "/bad": ${c.call} },\n});\n`,
      "src/a.txt": "a\n",
    });
    const r = await runMakes(bad, ["run", "/bad", "--store", store]);
    const problems: string[] = [];
    if (r.code !== 2) problems.push(`exit ${String(r.code)}, expected 2`);
    if (/\n\s+at .+:\d+:\d+/.test(r.stderr) || /internal error/i.test(r.stderr)) problems.push("a stack trace or an internal error");
    const firstLine = r.stderr.split("\n")[0] ?? "";
    if (firstLine.trim() === "" || firstLine.length > MAX_MESSAGE + 100) problems.push(`no clear first line (${firstLine.length} characters)`);
    if (r.stdout !== "") problems.push("printed an output path");
    const after = await snapshotTree(store);
    if (JSON.stringify(after) !== JSON.stringify(before)) problems.push("the store changed");
    if (problems.length > 0) failures.push(`${c.what}: ${problems.join("; ")}\n${shown(r).slice(0, 3000)}`);
  }
  t.diagnostic(figures("hostile e2e", { seed, cases: cases.length, failures: failures.length }));
  assert.deepEqual(failures, [], `replay with MAKES_FC_SEED=${seed}`);
});

// ---------------------------------------------------------------------------------------------------------
// Hostile outputs: what a builder leaves in $out is input to the store and the layer writer too.

test("hostile outputs: a non-UTF-8 file name or a fifo is a clear error (exit 1), never an internal error", { timeout: 120_000 }, async (t) => {
  const project = await makeProject(t, {
    "makes.ts": `export default ({ makeDerivation, makeContainerImage }: any) => ({ jobs: {
  "/latin1": makeDerivation({ name: "latin1", builder: "mkdir -p $out; touch $out/caf$'\\\\xe9'" }),
  "/fifo-image": makeContainerImage({ layers: [makeDerivation({ name: "fifo", builder: "mkdir -p $out; mkfifo $out/pipe" })] }),
} });\n`,
  });
  const store = join(await tempDir(t, "makes-hostile-out-"), "store");
  for (const [job, expected] of [["/latin1", /not valid UTF-8.*caf/], ["/fifo-image", /fifo/]] as const) {
    const r = await runMakes(project, ["run", job, "--store", store]);
    assert.equal(r.code, 1, `${job}: ${shown(r)}`);
    assert.match(r.stderr, expected, `${job}: ${shown(r)}`);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at .+:\d+:\d+/, `${job}: ${shown(r)}`);
    assert.equal(r.stdout, "");
  }
  const v = await runMakes(project, ["verify", "--store", store]);
  assert.equal(v.code, 0, shown(v));
});

// Reported to the OCI writer's owner: a file named `.wh.<x>` (or `.wh..wh..opq`) in a package is written into
// the layer as is, and every OCI consumer reads it as a whiteout, deleting <x> of the layers below (umoci does).
test("hostile outputs: a package file named .wh.* is refused, not written as an OCI whiteout", { timeout: 120_000 }, async (t) => {
  const project = await makeProject(t, {
    "makes.ts": `export default ({ makeDerivation, makeContainerImage }: any) => {
  const keep = makeDerivation({ name: "keep", builder: "mkdir -p $out/etc; echo keep > $out/etc/foo" });
  const wh = makeDerivation({ name: "wh", builder: "mkdir -p $out/etc; echo x > $out/etc/.wh.foo" });
  return { jobs: { "/image": makeContainerImage({ layers: [keep, wh], maxLayers: 2 }) } };
};\n`,
  });
  const store = join(await tempDir(t, "makes-hostile-wh-"), "store");
  const r = await runMakes(project, ["run", "/image", "--store", store]);
  assert.equal(r.code, 1, `a package with etc/.wh.foo built an image that deletes etc/foo of the layer below: ${shown(r)}`);
  assert.match(r.stderr, /\.wh\./);
});
