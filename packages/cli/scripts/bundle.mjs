// Bundles the CLI into a few ESM chunks (dist-bundle/) so that start-up loads a handful of files instead of
// hundreds of modules: a no-op `makes run` is mostly Node's own start-up. esbuild stays external (a native
// binary, imported only when makes.ts must be re-bundled); the watcher and the image writer are split into
// chunks loaded on demand.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * string-width (yargs and cliui import it) builds an Intl.Segmenter and a `\p{RGI_Emoji}` regular expression
 * when its module is evaluated: ~30 ms, a third of a no-op run's own time, for a function only help and usage
 * messages call. Every import of it is pointed at a stub that require()s the real module on the first call;
 * esbuild wraps a require()d ES module in a lazy initialiser, so its top level runs only then.
 */
const lazyStringWidth = {
  name: "lazy-string-width",
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === "real") return undefined;
      const real = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: "real" });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: "lazy-string-width" };
    });
    b.onLoad({ filter: /.*/, namespace: "lazy-string-width" }, (args) => ({
      contents: `export default function stringWidth(text, options) { return require(${JSON.stringify(args.path)}).default(text, options); }`,
      resolveDir: dirname(args.path),
      loader: "js",
    }));
  },
};
const outdir = join(cli, "dist-bundle");
rmSync(outdir, { recursive: true, force: true }); // chunk names carry content hashes: old ones would pile up
await build({
  entryPoints: { main: join(cli, "src", "main.ts") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  external: ["esbuild"],
  sourcemap: "linked",
  logLevel: "warning",
  plugins: [lazyStringWidth],
  // CommonJS dependencies (tar-stream) call require() for Node built-ins; ESM chunks need one defined.
  banner: { js: "import { createRequire as __makesRequire } from 'node:module'; const require = __makesRequire(import.meta.url);" },
});
