import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { collectJobs } from "./collect-jobs.js";
import { ConfigError } from "./errors.js";
import { loadConfig } from "./load-config.js";
import { MakesNode } from "./makes-node.js";

async function project(t: { after: (fn: () => Promise<void>) => void }, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "makes-load-test-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
  return dir;
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String((err as Error)?.stack ?? err)}`);
    return err;
  }
  assert.fail("expected a ConfigError, but it loaded");
}

/** A node that is enough for collectJobs (nothing is built here). */
class FakeNode extends MakesNode {
  readonly kind = "fake";
  deps(): readonly MakesNode[] {
    return [];
  }
  async fingerprint(): Promise<{ key: string; inputs: Record<string, string> }> {
    return { key: this.name, inputs: {} };
  }
  async build(): Promise<void> {}
}
const args = { node: (name: string) => new FakeNode(name) };

test("TypeScript makes.ts with a helper import and a bare package import; files lists what it is made of", async (t) => {
  const dir = await project(t, {
    "makes.ts": [
      `import type { Something } from "@makes/core"; // type-only: erased, nothing to resolve`,
      `import { jobName } from "./lib/helper.ts";`,
      `import { shout } from "fake-pkg";`,
      `interface Args { node(name: string): unknown }`,
      `export default ({ node }: Args) => ({ jobs: { [jobName]: node(shout("x")) } });`,
    ].join("\n"),
    "lib/helper.ts": `export const jobName: string = "/from-helper";\nexport const here = import.meta.dirname;\n`,
    "node_modules/fake-pkg/package.json": JSON.stringify({ name: "fake-pkg", type: "module", exports: "./index.js" }),
    "node_modules/fake-pkg/index.js": `export const shout = (s) => s.toUpperCase() + "-from-pkg";\n`,
  });
  const loaded = await loadConfig(join(dir, "makes.ts"));
  assert.equal(loaded.projectDir, dir);
  assert.equal(typeof loaded.root, "function");
  const jobs = await collectJobs(loaded, args);
  assert.deepEqual([...jobs.keys()], ["/from-helper"]);
  assert.equal(jobs.get("/from-helper")?.name, "X-from-pkg", "the bare import resolved to node_modules/fake-pkg");
  assert.ok(loaded.files.includes(join(dir, "makes.ts")), `files: ${loaded.files.join(", ")}`);
  assert.ok(loaded.files.includes(join(dir, "lib", "helper.ts")), `files: ${loaded.files.join(", ")}`);
  assert.ok(!loaded.files.some((f) => f.includes("node_modules")), "packages are external, not part of the config's files");
  const leftovers = (await readdir(dir)).filter((f) => f.endsWith(".mjs"));
  assert.deepEqual(leftovers, [], "the temporary bundle is deleted");
});

test("a changed helper is picked up by the next load (the bundle cache notices)", async (t) => {
  const dir = await project(t, {
    "makes.ts": `import { name } from "./helper.ts";\nexport default ({ node }: any) => ({ jobs: { "/j": node(name) } });\n`,
    "helper.ts": `export const name = "first";\n`,
    "node_modules/.keep": "",
  });
  const first = await collectJobs(await loadConfig(join(dir, "makes.ts")), args);
  assert.equal(first.get("/j")?.name, "first");
  await writeFile(join(dir, "helper.ts"), `export const name = "second-version";\n`);
  const second = await collectJobs(await loadConfig(join(dir, "makes.ts")), args);
  assert.equal(second.get("/j")?.name, "second-version");
});

test("the kept bundle: kept for files older than the bundle, used while they are unchanged, never after a same-size edit with its mtime put back", async (t) => {
  const dir = await project(t, {
    "makes.ts": `import { name } from "./helper.ts";\nexport default ({ node }: any) => ({ jobs: { "/j": node(name) } });\n`,
    "helper.ts": `export const name = "aaaa";\n`,
    "node_modules/.keep": "",
  });
  const cacheDir = join(dir, "node_modules", ".cache", "makes");
  const kept = async (): Promise<string[]> => (await readdir(cacheDir).catch(() => [] as string[])).filter((f) => f.startsWith("config-bundle-")).sort();
  const load = async (): Promise<string | undefined> => (await collectJobs(await loadConfig(join(dir, "makes.ts")), args)).get("/j")?.name;

  assert.equal(await load(), "aaaa");
  assert.deepEqual(await kept(), [], "files changed just before bundling: the bundle is used once, not kept");
  const past = new Date(Date.now() - 60_000);
  for (const f of ["makes.ts", "helper.ts"]) await utimes(join(dir, f), past, past);
  assert.equal(await load(), "aaaa");
  assert.equal((await kept()).length, 2, "older files: the bundle and its record are kept");
  assert.equal(await load(), "aaaa", "the kept bundle loads");

  // Same size, same mtime (as `cp -p`, `rsync -t` or `touch -r` leave it): the ctime still moves.
  await writeFile(join(dir, "helper.ts"), `export const name = "bbbb";\n`);
  await utimes(join(dir, "helper.ts"), past, past);
  assert.equal(await load(), "bbbb");
});

test("a package that is imported but not installed: the import's file:line:col and how to install it, not the bundle's path", async (t) => {
  const dir = await project(t, {
    "makes.ts": `import { x } from "./helper.ts";\nexport default ({ node }: any) => ({ jobs: { "/j": node(x) } });\n`,
    "helper.ts": `// a helper\nimport pad from "left-pad-not-installed";\nexport const x = pad("a", 2);\n`,
    "node_modules/.keep": "",
  });
  const err = await configError(loadConfig(join(dir, "makes.ts")));
  assert.match(err.message, /helper\.ts:2:17: "left-pad-not-installed" is imported but not installed; run `npm install left-pad-not-installed`/);
  assert.doesNotMatch(err.message, /makes-config-/, "the temporary bundle is not named");
  assert.match(err.detail ?? "", /2 \| import pad from "left-pad-not-installed";/);
});

test("require() in makes.ts: an installed package loads (from makes.ts's own node_modules); a missing one is named with its line", async (t) => {
  const dir = await project(t, {
    "makes.ts": `const { value } = require("present-pkg/lib");
export default () => ({ jobs: {}, value });
`,
    "node_modules/present-pkg/package.json": `{ "name": "present-pkg", "version": "1.0.0" }
`,
    "node_modules/present-pkg/lib.js": `module.exports = { value: 42 };
`,
  });
  const loaded = await loadConfig(join(dir, "makes.ts"));
  assert.equal(typeof loaded.root, "function");
  const missing = await project(t, {
    "makes.ts": `// uses a package
const pad = require("@scope/left-pad-not-installed/sub");
export default () => ({ jobs: {} });
`,
    "node_modules/.keep": "",
  });
  const err = await configError(loadConfig(join(missing, "makes.ts")));
  assert.match(err.message, /makes\.ts:2:21: "@scope\/left-pad-not-installed\/sub" is required but not installed; run `npm install @scope\/left-pad-not-installed`/);
  // An installed package without the file named: installing it again would not help.
  const noFile = await project(t, {
    "makes.ts": `const x = require("present-pkg/nothing-here");\nexport default () => ({ jobs: {} });\n`,
    "node_modules/present-pkg/package.json": `{ "name": "present-pkg", "version": "1.0.0" }\n`,
  });
  const noFileErr = await configError(loadConfig(join(noFile, "makes.ts")));
  assert.match(noFileErr.message, /makes\.ts:1:19: "present-pkg\/nothing-here" is required, but present-pkg has no such module; fix the path$/);
});

test("a syntax error is a ConfigError with file:line:col and the offending line", async (t) => {
  const dir = await project(t, {
    "makes.ts": `export default () => ({\n  jobs: {\n    "/a": 1 +,\n  },\n});\n`,
  });
  const err = await configError(loadConfig(join(dir, "makes.ts")));
  assert.equal(err.reason, "config-syntax");
  assert.match(err.message, /makes\.ts:3:\d+: /);
  assert.match(err.detail ?? "", /"\/a": 1 \+,/, "the offending line is shown");
  assert.doesNotMatch(`${err.message}\n${err.detail ?? ""}`, /\n\s+at /, "no stack trace");
});

test("a syntax error in a helper names the helper", async (t) => {
  const dir = await project(t, {
    "makes.ts": `import { x } from "./helper.ts";\nexport default { jobs: {}, x };\n`,
    "helper.ts": `export const x = ;\n`,
  });
  const err = await configError(loadConfig(join(dir, "makes.ts")));
  assert.match(err.message, /helper\.ts:1:\d+: /);
});

test("a throw while makes.ts evaluates names the makes.ts line (source-mapped), not the bundle's", async (t) => {
  const dir = await project(t, {
    "makes.ts": [
      `import { pad } from "./helper.ts";`,
      `type Args = { node(name: string): unknown };`,
      ``,
      `export default ({ node }: Args) => {`,
      `  const value: number = pad(1);`,
      `  if (value > 0) throw new Error("no jobs today");`,
      `  return { jobs: {} };`,
      `};`,
    ].join("\n"),
    "helper.ts": `// padding so that bundle lines differ from source lines\n\n\n\nexport const pad = (n: number): number => n;\n`,
  });
  const loaded = await loadConfig(join(dir, "makes.ts"));
  const err = await configError(collectJobs(loaded, args));
  assert.equal(err.reason, "config-throws");
  assert.match(err.message, /no jobs today/);
  assert.match(err.message, /makes\.ts:6:\d+/, `message: ${err.message}`);
  assert.match(err.detail ?? "", /throw new Error\("no jobs today"\)/);
});

test("a throw at the top level of makes.ts names its line too", async (t) => {
  const dir = await project(t, {
    "makes.ts": `const a: number = 1;\nconst b: string = "two";\nthrow new Error("top-level " + a + b);\nexport default { jobs: {} };\n`,
  });
  const err = await configError(loadConfig(join(dir, "makes.ts")));
  assert.equal(err.reason, "config-throws");
  assert.match(err.message, /makes\.ts:3:\d+: .*top-level 1two/);
});

test("the default export must be a function or an object with jobs", async (t) => {
  for (const [source, got] of [
    [`export default 42;`, /a number/],
    [`export default { tasks: {} };`, /without `jobs`/],
    [`export const jobs = {};`, /nothing/],
    [`export default () => "jobs";`, /a string/],
  ] as const) {
    const dir = await project(t, { "makes.ts": source });
    const err = await configError(loadConfig(join(dir, "makes.ts")).then((l) => collectJobs(l, args)));
    assert.equal(err.reason, "config-bad-export");
    assert.match(err.message, got);
    assert.match(err.message, /function of the builders/);
  }
});

test("makes/<a>/<b>/main.ts becomes the job /<a>/<b>, and is part of the config's files", async (t) => {
  const dir = await project(t, {
    "makes.ts": `export default ({ node }: any) => ({ jobs: { "/top": node("top") } });\n`,
    "makes/tools/lint/main.ts": `export default ({ node }: any) => node("lint");\n`,
  });
  const loaded = await loadConfig(join(dir, "makes.ts"));
  const jobs = await collectJobs(loaded, args);
  assert.deepEqual([...jobs.keys()].sort(), ["/tools/lint", "/top"]);
  assert.ok(loaded.files.includes(join(dir, "makes", "tools", "lint", "main.ts")));
});

test("two projects that share a node_modules (and --config files) do not load each other's cached bundle", async (t) => {
  const dir = await project(t, {
    "node_modules/.keep": "",
    "a/makes.ts": `export default ({ node }: any) => ({ jobs: { "/a-job": node("a") } });\n`,
    "b/makes.ts": `export default ({ node }: any) => ({ jobs: { "/b-job": node("b") } });\n`,
    "b/other.ts": `export default ({ node }: any) => ({ jobs: { "/other-job": node("o") } });\n`,
  });
  for (let round = 0; round < 2; round++) {
    for (const [file, job] of [["a/makes.ts", "/a-job"], ["b/makes.ts", "/b-job"], ["b/other.ts", "/other-job"]] as const) {
      const jobs = await collectJobs(await loadConfig(join(dir, file)), args);
      assert.deepEqual([...jobs.keys()], [job], `round ${round}: ${file}`);
    }
  }
});

test("a project whose path has spaces and non-ASCII letters: errors still name the makes.ts line", async (t) => {
  const parent = await mkdtemp(join(tmpdir(), "makes load é "));
  t.after(() => rm(parent, { recursive: true, force: true }));
  const dir = join(parent, "my project");
  await mkdir(dir);
  await writeFile(join(dir, "makes.ts"), `export default () => {\n  const a = 1;\n  throw new Error("spaced " + a);\n};\n`);
  const err = await configError(loadConfig(join(dir, "makes.ts")).then((l) => collectJobs(l, args)));
  assert.match(err.message, /makes\.ts:3:\d+: .*spaced 1/);
  assert.match(err.detail ?? "", /throw new Error/);
});
