/** Case 15: an 8 GiB sparse file. Slow (minutes): runs only with MAKES_SLOW=1. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { validateImageOptions } from "./validate-image-options.js";
import { writeImage } from "./write-image.js";
import { makeTree, pkg, run, tempDir } from "./oci-test-helpers.js";

const SIZE = 8 * 1024 ** 3 + 512; // past the 11-octal-digit ustar limit (8 GiB - 1)

test("an 8 GiB sparse file round-trips through GNU tar and umoci (case 15)", { skip: process.env["MAKES_SLOW"] !== "1" && "set MAKES_SLOW=1", timeout: 30 * 60_000 }, async (t) => {
  const dir = await tempDir(t, "makes-oci-big-");
  const root = await makeTree(join(dir, "p"), [{ path: "small", file: "x" }]);
  await run("truncate", ["-s", String(SIZE), join(root, "big.img")]);
  const out = join(dir, "image");
  const options = validateImageOptions({}, { name: "big", tag: "v1", jobLabel: "/big" }, {});
  const r = await writeImage({ layers: [[pkg("p", root)]], options, outDir: out, cacheDir: join(dir, "cache"), concurrency: 1, onWarning: () => undefined });
  const manifest = JSON.parse(await run("cat", [join(out, "blobs/sha256", r.manifestDigest.slice(7))]));
  const layer = join(out, "blobs/sha256", manifest.layers[0].digest.slice(7));
  const listing = await run("tar", ["-tvzf", layer]);
  assert.match(listing, new RegExp(`\\s${SIZE}\\s.*big\\.img`), listing);
  await run("umoci", ["unpack", "--image", `${out}:v1`, join(dir, "bundle")]); // verifies the diff_id over all 8 GiB
  assert.equal((await stat(join(dir, "bundle/rootfs/big.img"))).size, SIZE);
});
