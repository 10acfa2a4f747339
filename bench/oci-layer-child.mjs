// One measured piece of bench/oci-layer.ts, in a process of its own so that maxRSS is its peak alone:
// `layer OUT - DIR...` writes one layer of the DIRs; `image OUT CACHE DIR...` an image of one layer per DIR.
// Prints { ms, maxRssMB, extra } as JSON. Runs the compiled packages, as the CLI does.
import { writeLayer } from "../packages/builders/dist/oci/write-layer.js";
import { writeImage } from "../packages/builders/dist/oci/write-image.js";
import { validateImageOptions } from "../packages/builders/dist/oci/validate-image-options.js";

const [, , mode, out, cache, ...dirs] = process.argv;
const start = performance.now();
let extra = null;
if (mode === "layer") {
  await writeLayer(dirs.map((d, i) => ({ id: `p${i}`, name: `p${i}`, dir: d, refs: [] })), out);
} else {
  const options = validateImageOptions({}, { name: "bench", tag: "v1", jobLabel: "/bench" }, {});
  const layers = dirs.map((d) => [{ id: d.split("/").pop(), name: d, dir: d, refs: [] }]);
  const r = await writeImage({ layers, options, outDir: out, cacheDir: cache, concurrency: 2, onWarning: () => undefined });
  extra = r.layerCache;
}
const ms = performance.now() - start;
process.stdout.write(JSON.stringify({ ms, maxRssMB: process.resourceUsage().maxRSS / 1024, extra }));
