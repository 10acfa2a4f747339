import { createHash, randomBytes } from "node:crypto";
import { constants, existsSync, readFileSync } from "node:fs";
import { access, readdir, readFile, rm, stat } from "node:fs/promises";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Message, Plugin } from "esbuild";
import { withoutProcessExit } from "./without-process-exit.js";
import { ConfigError } from "./errors.js";
import { writeFileAtomic } from "./write-file-atomic.js";
import { makeDirs } from "./make-dirs.js";

export interface LoadedConfig {
  readonly configPath: string;
  readonly projectDir: string;
  /** The default export of makes.ts. */
  readonly root: unknown;
  /** `makes/<a>/<b>/main.ts` → job `/<a>/<b>`, with each file's default export. */
  readonly folderJobs: ReadonlyArray<{ readonly job: string; readonly file: string; readonly exported: unknown }>;
  /** Every file the config is made of (makes.ts, its own imports, makes/**\/main.ts): watch mode reloads on them. */
  readonly files: readonly string[];
}

const LOADERS: Record<string, "ts" | "tsx" | "js" | "jsx"> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx" };

/** Each bundled module keeps its own import.meta.url/dirname/filename (only injected where used, so columns stay right elsewhere). */
const fileScope: Plugin = {
  name: "makes-file-scope",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async ({ path }) => {
      const source = await readFile(path, "utf8");
      const loader = LOADERS[extname(path)] ?? "ts";
      if (!source.includes("import.meta")) return { contents: source, loader };
      const prelude =
        `const __makes_url=${JSON.stringify(pathToFileURL(path).href)},__makes_dir=${JSON.stringify(dirname(path))},__makes_file=${JSON.stringify(path)};`;
      return { contents: prelude + source, loader };
    });
  },
};

async function findFolderMains(projectDir: string): Promise<string[]> {
  const root = join(projectDir, "makes");
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory() && entry.name !== "node_modules") await walk(join(dir, entry.name));
      else if (entry.name === "main.ts" && dir !== root) found.push(join(dir, entry.name));
    }
  };
  await walk(root);
  return found.sort();
}

/**
 * Where the temporary bundle goes: inside the nearest node_modules so bare imports resolve and no watcher
 * sees it; else in `fallback` (a directory inside the project, such as the store's cache, from which bare
 * imports resolve as from the project); else beside makes.ts, uncached.
 */
function bundleDir(projectDir: string, fallback: string | undefined): string {
  let dir = projectDir;
  for (;;) {
    if (existsSync(join(dir, "node_modules"))) return join(dir, "node_modules", ".cache", "makes");
    const parent = dirname(dir);
    if (parent === dir) return fallback ?? projectDir;
    dir = parent;
  }
}

function messageOf(error: Message, configPath: string): ConfigError {
  const loc = error.location;
  if (loc === null) return new ConfigError("config-syntax", `${configPath}: ${error.text}`);
  const file = resolve(dirname(configPath), loc.file);
  const shown = relative(process.cwd(), file) || file;
  const caret = `${" ".repeat(loc.column)}^`;
  return new ConfigError("config-syntax", `${shown}:${loc.line}:${loc.column + 1}: ${error.text}`, {
    detail: `  ${loc.line} | ${loc.lineText}\n  ${" ".repeat(String(loc.line).length)} | ${caret}`,
  });
}

/** How close to a bundle's start a file's change makes the bundle untrustworthy: coarse file system clocks tick in up to 1 s (and 2 s on FAT). */
const RACY_MS = 2000;

/** Bump when the bundle makes writes changes (its entry, defines, options): kept bundles of older makes then miss. */
const BUNDLE_CACHE_FORMAT = 3;

/** An input file as it was when bundled: size, mtime, ctime and inode (a same-size edit with its mtime restored still changes the ctime). */
type InputStat = [size: number, mtimeMs: number, ctimeMs: number, ino: number];

interface BundleCache {
  readonly format: number;
  readonly inputs: Record<string, InputStat>;
  readonly mains: string[];
}

const statOf = (st: import("node:fs").Stats): InputStat => [st.size, st.mtimeMs, st.ctimeMs, st.ino];

async function cacheStillValid(cacheFile: string, mains: string[]): Promise<BundleCache | undefined> {
  try {
    const cache = JSON.parse(await readFile(cacheFile, "utf8")) as BundleCache;
    if (cache.format !== BUNDLE_CACHE_FORMAT || JSON.stringify(cache.mains) !== JSON.stringify(mains)) return undefined;
    for (const [file, recorded] of Object.entries(cache.inputs)) {
      if (JSON.stringify(statOf(await stat(file))) !== JSON.stringify(recorded)) return undefined;
    }
    return cache;
  } catch {
    return undefined;
  }
}

function defaultOf(namespace: unknown): unknown {
  return namespace !== null && typeof namespace === "object" ? (namespace as { default?: unknown }).default : undefined;
}

/**
 * Turns an error thrown by the user's code into a ConfigError pointing at their source line: the first
 * stack frame in one of `files` (the config's own files; source maps give their lines). A ConfigError
 * from a builder (a bad argument) keeps its message and gains the location of the call.
 */
export function configThrew(err: unknown, configPath: string, when: string, files: readonly string[] = []): ConfigError {
  const message = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error ? (err.stack ?? "") : "";
  const projectDir = dirname(configPath);
  // Without the list of files, anything of the project outside packages (never makes's own code).
  const isUsers = (file: string): boolean =>
    files.length > 0 ? files.includes(file) : file.startsWith(projectDir) && !file.includes("node_modules") && !file.includes(".makes-config-");
  let where: string | undefined;
  let detail: string | undefined;
  // Stack frames are `at fn (LOCATION)` or `at LOCATION`; a location is a path (spaces allowed) or a file: URL.
  for (const match of stack.matchAll(/^\s*at (?:.* \()?(.+?):(\d+):(\d+)\)?$/gm)) {
    const [, location, line, col] = match;
    if (location === undefined || line === undefined || col === undefined) continue;
    let file = location;
    if (location.startsWith("file://")) {
      try {
        file = fileURLToPath(location);
      } catch {
        continue;
      }
    }
    if (!isUsers(file)) continue;
    where = `${relative(process.cwd(), file) || file}:${line}:${col}`;
    try {
      const text = readFileSync(file, "utf8").split("\n")[Number(line) - 1];
      if (text !== undefined) detail = `  ${line} | ${text}`;
    } catch {
      // the line is a courtesy
    }
    break;
  }
  if (err instanceof ConfigError) {
    if (where === undefined) return err;
    return new ConfigError(err.reason, `${where}: ${err.message}`, { detail: err.detail ?? detail, cause: err });
  }
  where ??= relative(process.cwd(), configPath) || configPath;
  // One line: Node appends a "Require stack:" list to a failed require's message.
  return new ConfigError("config-throws", `${where}: makes.ts threw ${when}: ${message.split("\n")[0] ?? ""}`, { detail, cause: err });
}

/**
 * A package that makes.ts (or a file it imports) imports but that is not installed: Node names the bundle
 * that imported it, which the user never wrote, so the error points at the import in their own file instead.
 */
export function missingPackage(err: unknown, configPath: string, files: readonly string[]): ConfigError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = (err as Error | undefined)?.message ?? "";
  // `import` fails with ERR_MODULE_NOT_FOUND; `require` (through the bundle's createRequire) with MODULE_NOT_FOUND.
  const name =
    code === "ERR_MODULE_NOT_FOUND" ? /Cannot find package '([^']+)'/.exec(message)?.[1] : code === "MODULE_NOT_FOUND" ? /Cannot find module '([^'./][^']*)'/.exec(message)?.[1] : undefined;
  if (name === undefined) return undefined;
  const how = code === "MODULE_NOT_FOUND" ? "required" : "imported";
  const pkg = packageOf(name);
  // A package that is there with a file that is not: installing it again would not help.
  const problem = name !== pkg && installed(pkg, dirname(configPath)) ? `is ${how}, but ${pkg} has no such module; fix the path` : `is ${how} but not installed; run \`npm install ${pkg}\` in ${dirname(configPath)} (or fix the ${how === "required" ? "require" : "import"})`;
  const spec = new RegExp(`(["'\`])${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\1|/)`);
  for (const file of files) {
    const lines = readFileSync(file, "utf8").split("\n");
    const index = lines.findIndex((l) => spec.test(l));
    const line = lines[index];
    if (line === undefined) continue;
    const col = line.search(spec) + 1;
    return new ConfigError("config-throws", `${relative(process.cwd(), file) || file}:${index + 1}:${col}: ${JSON.stringify(name)} ${problem}`, { detail: `  ${index + 1} | ${line}`, cause: err });
  }
  // Named by a computed string: no line to point at.
  return new ConfigError("config-throws", `${relative(process.cwd(), configPath) || configPath}: ${JSON.stringify(name)} ${problem}`, { cause: err });
}

/** Whether `node_modules/<pkg>` is in `dir` or a directory above it (where Node would look). */
function installed(pkg: string, dir: string): boolean {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, "node_modules", pkg))) return true;
    if (dirname(current) === current) return false;
  }
}

/** The package a module specifier names: `lodash/fp` → `lodash`, `@scope/pkg/x` → `@scope/pkg`. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

/**
 * Loads makes.ts (and makes/**\/main.ts) with esbuild: the user's own files are bundled, packages stay
 * external, the bundle is written to a unique temporary .mjs, imported and deleted. The bundle is
 * reused while none of its input files changed, so a no-op run does not start esbuild.
 */
export async function loadConfig(configPath: string, options: { cacheDir?: string | undefined } = {}): Promise<LoadedConfig> {
  const projectDir = dirname(configPath);
  const mains = await findFolderMains(projectDir);
  let dir = bundleDir(projectDir, options.cacheDir);
  // A cache directory that cannot be made or written (a store path that is a file, a read-only store or
  // node_modules) only costs the cache: the bundle then goes beside makes.ts, and the store's own error comes later.
  if (dir !== projectDir && !(await makeDirs(dir).then(() => access(dir, constants.W_OK)).then(() => true, () => false))) dir = projectDir;
  const cacheable = dir !== projectDir;
  // One cache per config file: projects that share a node_modules (a monorepo), or --config, must not
  // load each other's bundle.
  const key = createHash("sha256").update(configPath).digest("hex").slice(0, 16);
  const cachedBundle = join(dir, `config-bundle-${key}.mjs`);
  const cacheFile = join(dir, `config-bundle-${key}.json`);
  process.setSourceMapsEnabled(true);

  let cache = cacheable ? await cacheStillValid(cacheFile, mains) : undefined;
  let bundlePath = cachedBundle;
  let temporary: string | undefined;
  if (cache === undefined) {
    const { build } = await import("esbuild");
    const entry = [
      // Namespaces, not `default`: a file without a default export must reach collectJobs (which says
      // what the export should be), not fail the bundle with an error about this generated entry.
      `export * as root from ${JSON.stringify(configPath)};`,
      ...mains.map((m, i) => `export * as main${i} from ${JSON.stringify(m)};`),
    ].join("\n");
    temporary = join(dir, `.makes-config-${randomBytes(6).toString("hex")}.mjs`);
    const bundleStarted = Date.now();
    let result;
    try {
      result = await build({
        stdin: { contents: entry, resolveDir: projectDir, sourcefile: "makes-entry.js", loader: "js" },
        outfile: temporary,
        // Paths in the metafile and in error locations are relative to this; without it they are
        // relative to the cwd, which is not the project's directory under -C or in a subdirectory.
        absWorkingDir: projectDir,
        bundle: true,
        platform: "node",
        format: "esm",
        packages: "external",
        logLevel: "silent",
        sourcemap: "inline",
        metafile: true,
        target: `node${process.versions.node}`,
        // esbuild's ESM output has no `require`: without one, `require("pkg")` in makes.ts fails with "Dynamic
        // require is not supported" even for an installed package. Resolved from makes.ts's own directory.
        banner: { js: `import { createRequire as __makesCreateRequire } from "node:module";\nconst require = __makesCreateRequire(${JSON.stringify(configPath)});` },
        plugins: [fileScope],
        define: { "import.meta.url": "__makes_url", "import.meta.dirname": "__makes_dir", "import.meta.filename": "__makes_file" },
      });
    } catch (err) {
      const errors = (err as { errors?: Message[] }).errors;
      const first = errors?.[0];
      if (first !== undefined) throw messageOf(first, configPath);
      throw err;
    }
    const inputs: BundleCache["inputs"] = {};
    // A file changed while esbuild read it (or just before, within the clock's granularity) may be bundled
    // in its old state but stat'ed in its new one: such a bundle is used once and not kept (git's racy-clean rule).
    let racy = false;
    for (const input of Object.keys(result.metafile.inputs)) {
      if (input.startsWith("<stdin>") || input === "makes-entry.js") continue;
      const abs = resolve(projectDir, input);
      const st = await stat(abs);
      inputs[abs] = statOf(st);
      racy ||= st.mtimeMs >= bundleStarted - RACY_MS;
    }
    cache = { format: BUNDLE_CACHE_FORMAT, inputs, mains };
    bundlePath = temporary;
    if (cacheable && !racy) {
      // Keep this bundle for the next run; the temporary copy is still what we import now.
      // Atomic writes: another makes process may be importing the cached bundle right now.
      await writeFileAtomic(cachedBundle, await readFile(temporary)).catch(() => undefined);
      await writeFileAtomic(cacheFile, JSON.stringify(cache)).catch(() => undefined);
    }
  }

  let module: Record<string, unknown>;
  try {
    // A fresh URL each load: Node's ESM cache would otherwise return the first version (watch mode).
    const url = `${pathToFileURL(bundlePath).href}?v=${randomBytes(4).toString("hex")}`;
    module = await withoutProcessExit(async () => (await import(url)) as Record<string, unknown>);
  } catch (err) {
    throw missingPackage(err, configPath, Object.keys(cache.inputs)) ?? configThrew(err, configPath, "while loading", Object.keys(cache.inputs));
  } finally {
    if (temporary !== undefined) await rm(temporary, { force: true });
  }
  return {
    configPath,
    projectDir,
    root: defaultOf(module.root),
    folderJobs: mains.map((file, i) => ({
      job: `/${relative(join(projectDir, "makes"), dirname(file)).split("\\").join("/")}`,
      file,
      exported: defaultOf(module[`main${i}`]),
    })),
    files: Object.keys(cache.inputs).sort(),
  };
}
