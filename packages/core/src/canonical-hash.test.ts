import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { base32Hash, canonicalBytes, Encoded, HASH_ENCODING_VERSION, nodeHashOf, type Canonical } from "./canonical-hash.js";

test("the encoding starts with its version, so a new encoding never collides with an old store", () => {
  const bytes = canonicalBytes("x");
  const version = Buffer.from(HASH_ENCODING_VERSION, "utf8");
  assert.ok(bytes.includes(version), "the version string is part of the hashed bytes");
  assert.ok(bytes.indexOf(version) < bytes.indexOf(Buffer.from("x")), "the version comes first");
  assert.equal(nodeHashOf("x"), base32Hash(createHash("sha256").update(bytes).digest()));
});

test("length-delimited: splitting the same characters differently gives different hashes", () => {
  const pairs: Array<[Canonical, Canonical]> = [
    [["ab", "c"], ["a", "bc"]],
    [["a", ""], ["", "a"]],
    [["a:b"], ["a", "b"]],
    [{ a: "bc" }, { ab: "c" }],
    [[["a"], "b"], ["a", ["b"]]],
    [[], [[]]],
    ["", []],
    ["s1:a", ["a"]],
  ];
  for (const [x, y] of pairs) {
    assert.notDeepEqual(canonicalBytes(x), canonicalBytes(y), `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    assert.notEqual(nodeHashOf(x), nodeHashOf(y), `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
  }
});

test("values are typed: a string, a number, a boolean, null and a buffer of the same text differ", () => {
  const values: Canonical[] = ["1", 1, true, "true", null, "null", Buffer.from("1"), [1], { 1: 1 }];
  const hashes = values.map((v) => nodeHashOf(v));
  assert.equal(new Set(hashes).size, values.length, "every value hashes differently");
});

test("maps: key order does not matter; keys whose value is undefined are left out", () => {
  assert.equal(nodeHashOf({ a: 1, b: "x", c: [1, 2] }), nodeHashOf({ c: [1, 2], b: "x", a: 1 }));
  assert.equal(nodeHashOf({ a: { y: 1, x: 2 } }), nodeHashOf({ a: { x: 2, y: 1 } }));
  assert.equal(nodeHashOf({ a: 1, gone: undefined }), nodeHashOf({ a: 1 }));
  // but list order does
  assert.notEqual(nodeHashOf([1, 2]), nodeHashOf([2, 1]));
});

test("different values give different hashes, and the same value always the same one", () => {
  const seen = new Map<string, string>();
  const values: Canonical[] = [];
  for (let i = 0; i < 200; i++) values.push({ name: `job${i}`, env: { N: String(i) } });
  values.push("", " ", "a", "A", "é", "e\u0301", 0, -0.5, 1e21, [], {}, [null], { "": "" });
  for (const v of values) {
    const h = nodeHashOf(v);
    assert.equal(nodeHashOf(v), h, "deterministic");
    const before = seen.get(h);
    assert.equal(before, undefined, `collision between ${before} and ${JSON.stringify(v)}`);
    seen.set(h, JSON.stringify(v));
  }
});

test("base32: Nix's alphabet, 32 characters for 160 bits, a known value", () => {
  const h = nodeHashOf({ any: "thing" });
  assert.match(h, /^[0-9abcdfghijklmnpqrsvwxyz]{32}$/);
  assert.equal(base32Hash(Buffer.alloc(20)), "0".repeat(32));
  assert.equal(base32Hash(Buffer.alloc(20, 0xff)), "z".repeat(32));
  // 0x08 = 00001000 followed by zeros: the first five bits are 00001 ("1"), all the rest are zero
  assert.equal(base32Hash(Buffer.concat([Buffer.from([0x08]), Buffer.alloc(19)])), `1${"0".repeat(31)}`);
  // 0x04 = 00000100: the first five bits are 00000, the next five 10000 (16, "h": the alphabet skips e)
  assert.equal(base32Hash(Buffer.concat([Buffer.from([0x04]), Buffer.alloc(19)])), `0h${"0".repeat(30)}`);
  // only the first 20 bytes count, as in Nix's truncation
  const a = Buffer.concat([Buffer.alloc(20, 7), Buffer.from([1])]);
  const b = Buffer.concat([Buffer.alloc(20, 7), Buffer.from([2])]);
  assert.equal(base32Hash(a), base32Hash(b));
  // every bit of the 20 bytes shows
  for (let bit = 0; bit < 160; bit++) {
    const buf = Buffer.alloc(20);
    buf[bit >> 3] = 0x80 >> (bit & 7);
    assert.notEqual(base32Hash(buf), "0".repeat(32), `bit ${bit}`);
  }
});

test("Encoded.rows writes the very bytes of the general encoding, so source-tree hashes do not depend on which one made them", () => {
  const cells = ["", "a", "src/f0.js", "dir with space/ü.txt", "日本語", "😀 emoji", "\ud800 lone", "s1:a", "l2:", "file", "symlink", 420, 493, 511, 0, 7];
  let seed = 7;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const rows = Array.from({ length: next(6) }, () => Array.from({ length: next(5) }, () => cells[next(cells.length)] as string | number));
    assert.deepEqual(canonicalBytes({ entries: Encoded.rows(rows) }), canonicalBytes({ entries: rows }), JSON.stringify(rows));
    assert.equal(nodeHashOf([Encoded.rows(rows), "x"]), nodeHashOf([rows, "x"]));
  }
  assert.throws(() => Encoded.rows([[1.5]]), /integers/);
});
