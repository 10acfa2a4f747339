// Bundles the CLI into a few ESM chunks (dist-bundle/) so that start-up loads a handful of files instead of
// hundreds of modules: a no-op `makes run` is mostly Node's own start-up. esbuild stays external (a native
// binary, imported only when makes.ts must be re-bundled); the watcher and the image writer are split into
// chunks loaded on demand.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: { main: join(cli, "src", "main.ts") },
  outdir: join(cli, "dist-bundle"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  external: ["esbuild"],
  sourcemap: "linked",
  logLevel: "warning",
  // CommonJS dependencies (tar-stream) call require() for Node built-ins; ESM chunks need one defined.
  banner: { js: "import { createRequire as __makesRequire } from 'node:module'; const require = __makesRequire(import.meta.url);" },
});
