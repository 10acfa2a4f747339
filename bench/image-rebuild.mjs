// Issue 3 benchmark (b): an image with one large layer (a copy of a real tree, default /usr/share, ~650 MB of
// mixed files) and one small layer; cold build against the rebuild after changing only the small layer's builder.
// The rebuild must reuse the large layer from the layer cache without reading it. Prints both times, the ratio,
// and the layer-cache hits/misses of each run (from --reporter json).
// Usage: node bench/image-rebuild.mjs [SOURCE_DIR=/usr/share]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const source = resolve(process.argv[2] ?? "/usr/share");
const makes = resolve(import.meta.dirname, "..", "packages", "cli", "bin", "makes.js");
const dir = mkdtempSync(join(tmpdir(), "makes-bench-image-"));
const config = (marker) => `export default ({ makeDerivation, makeContainerImage }) => {
  const big = makeDerivation({ name: "big", builder: "mkdir -p $out/big && cp -a ${source}/. $out/big/ 2>/dev/null || true; test -d $out/big" });
  const small = makeDerivation({ name: "small", builder: "mkdir -p $out/etc && echo ${marker} > $out/etc/marker" });
  return { jobs: { "/image": makeContainerImage({ layers: [big, small] }) } };
};
`;

function run(label) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [makes, "run", "/image", "--reporter", "json"], { cwd: dir, encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr}`);
  const built = r.stderr.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.type === "node-built" && e.node.label === "/image");
  return { ms, hits: built?.stats?.layerCacheHits, misses: built?.stats?.layerCacheMisses };
}

writeFileSync(join(dir, "makes.ts"), config("one"));
const cold = run("cold build");
writeFileSync(join(dir, "makes.ts"), config("two"));
const warm = run("rebuild");
const du = spawnSync("du", ["-sh", join(dir, ".makes", "oci-cache")], { encoding: "utf8" }).stdout.split("\t")[0];
rmSync(dir, { recursive: true, force: true });
console.log(`large layer from ${source}; layer cache ${du}`);
console.log(`cold build:            ${(cold.ms / 1000).toFixed(2)} s (layer cache ${cold.hits} hits, ${cold.misses} misses)`);
console.log(`small layer changed:   ${(warm.ms / 1000).toFixed(2)} s (layer cache ${warm.hits} hits, ${warm.misses} misses)`);
console.log(`ratio rebuild ÷ cold:  ${((warm.ms / cold.ms) * 100).toFixed(1)} %`);
