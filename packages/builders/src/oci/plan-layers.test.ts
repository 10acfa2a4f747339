import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "@makes/core";
import type { LayerPackage } from "./layer-package.js";
import { planLayers, popularityOrder } from "./plan-layers.js";

const p = (id: string, refs: string[] = []): LayerPackage => ({ id, name: id, dir: `/store/${id}`, refs });
const ids = (layers: LayerPackage[][]): string[][] => layers.map((l) => l.map((x) => x.id));

test("popularity matches grahamc's worked example (closure-graph.py)", () => {
  // A - B - C - D - F;  B - E - F; C - E;  A - G
  const graph = [p("A", ["B", "G"]), p("B", ["C", "E"]), p("C", ["D", "E"]), p("D", ["F"]), p("E", ["F"]), p("F"), p("G")];
  assert.deepEqual(popularityOrder(graph).map((x) => x.id), ["F", "E", "D", "C", "B", "G", "A"]);
});

test("within budget: one layer each, dependencies below dependents, the user's order otherwise", () => {
  // The user lists app, then tools: tools goes above app and app's closure (as a later Dockerfile step would),
  // not below them just because it has no dependencies.
  const closure = [p("app", ["libssl", "libc"]), p("tools"), p("libssl", ["libc"]), p("libc")];
  assert.deepEqual(ids(planLayers(closure, 65)), [["libc"], ["libssl"], ["app"], ["tools"]]);
  assert.deepEqual(ids(planLayers([p("x"), p("y"), p("z")], 3)), [["x"], ["y"], ["z"]]);
});

test("a derivation listed after a Debian package is the top layer, above the package's whole closure (the seed's /myContainer)", () => {
  // The closure as ImageNode.packages() gives it: the user's order, then dependencies breadth-first;
  // libc6 <-> libgcc-s1 is a real Depends cycle.
  const closure = [
    p("coreutils", ["libacl1", "libattr1", "libc6"]),
    p("custom-layer"),
    p("libacl1", ["libc6"]),
    p("libattr1", ["libc6"]),
    p("libc6", ["libgcc-s1"]),
    p("libgcc-s1", ["gcc-12-base", "libc6"]),
    p("gcc-12-base"),
  ];
  assert.deepEqual(ids(planLayers(closure, 65)).flat(), ["gcc-12-base", "libgcc-s1", "libc6", "libacl1", "libattr1", "coreutils", "custom-layer"]);
  // listed first, the derivation is at the bottom and coreutils with its closure above it
  const first = [closure[1] as LayerPackage, closure[0] as LayerPackage, ...closure.slice(2)];
  assert.deepEqual(ids(planLayers(first, 65)).flat(), ["custom-layer", "gcc-12-base", "libgcc-s1", "libc6", "libacl1", "libattr1", "coreutils"]);
});

test("70 packages with maxLayers 65: 65 layers, the 64 most shared own one, the rest share the last (case 11)", () => {
  const libs = Array.from({ length: 64 }, (_, i) => p(`lib${String(i).padStart(2, "0")}`));
  const apps = Array.from({ length: 6 }, (_, i) => p(`app${i}`, libs.map((l) => l.id)));
  const layers = planLayers([...apps, ...libs], 65);
  assert.equal(layers.length, 65);
  const own = layers.slice(0, 64);
  assert.ok(own.every((l) => l.length === 1));
  assert.deepEqual(new Set(own.map((l) => l[0]?.id)), new Set(libs.map((l) => l.id)));
  assert.deepEqual(ids([layers[64] as LayerPackage[]]), [apps.map((a) => a.id)], "the last layer keeps the user's order");
  // a deeper graph: shared more deeply ranks higher
  const chain = [p("top", ["mid"]), p("mid", ["base"]), p("base"), p("other")];
  assert.deepEqual(ids(planLayers(chain, 3)), [["base"], ["mid"], ["top", "other"]]);
});

test("ties in popularity are broken by name, then id, independently of the input order", () => {
  const a = [p("b"), p("a"), p("c")];
  const b = [p("c"), p("a"), p("b")];
  assert.deepEqual(ids(planLayers(a, 2)).slice(0, 1), [["a"]]);
  assert.deepEqual(ids(planLayers(b, 2)).slice(0, 1), [["a"]]);
});

test("base layers use the budget; none left is an error", () => {
  assert.equal(planLayers([p("a"), p("b"), p("c")], 3, 1).length, 2);
  assert.throws(() => planLayers([p("a")], 2, 2), (e: unknown) => e instanceof ConfigError && /maxLayers/.test(e.message));
});

test("a package listed twice is one layer", () => {
  assert.deepEqual(ids(planLayers([p("a"), p("a")], 5)), [["a"]]);
});
