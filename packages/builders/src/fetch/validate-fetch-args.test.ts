import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "@makes/core";
import { validateFetchArgs } from "./validate-fetch-args.js";

const hex = "a".repeat(64);

describe("validateFetchArgs", () => {
  test("normalises the hash and derives a store name from the URL", () => {
    assert.deepEqual(validateFetchArgs({ url: "https://example.org/dl/hello%20world-1.0.tar.gz?x=1", sha256: hex.toUpperCase() }, "fetchUrl"), {
      url: "https://example.org/dl/hello%20world-1.0.tar.gz?x=1",
      sha256: hex,
      name: "hello_world-1.0.tar.gz",
    });
  });

  test("fetchArchive drops the archive extension; a path without segments uses the host; a leading dot goes", () => {
    assert.equal(validateFetchArgs({ url: "https://example.org/v1.2.3.tar.gz", sha256: hex }, "fetchArchive").name, "v1.2.3");
    assert.equal(validateFetchArgs({ url: "https://example.org/", sha256: hex }, "fetchUrl").name, "example.org");
    assert.equal(validateFetchArgs({ url: "http://example.org/.hidden", sha256: hex }, "fetchUrl").name, "hidden");
  });

  test("an SRI hash becomes hex", () => {
    const sri = `sha256-${Buffer.from(hex, "hex").toString("base64")}`;
    assert.equal(validateFetchArgs({ url: "https://e.org/f", sha256: sri }, "fetchUrl").sha256, hex);
  });

  test("an explicit name is kept, or rejected when it is not a store name", () => {
    assert.equal(validateFetchArgs({ url: "https://e.org/f", sha256: hex, name: "my-file.txt" }, "fetchUrl").name, "my-file.txt");
    assert.throws(() => validateFetchArgs({ url: "https://e.org/f", sha256: hex, name: "a/b" }, "fetchUrl"), /name "a\/b" is not a valid store name/);
    assert.throws(() => validateFetchArgs({ url: "https://e.org/f", sha256: hex, name: ".x" }, "fetchUrl"), /is not a valid store name/);
  });

  const bad: [string, unknown, RegExp][] = [
    ["not an object", "https://e.org/f", /^fetchUrl expects an object \{ url, sha256, name\? \}, got "https:\/\/e.org\/f"$/],
    ["no url", { sha256: hex }, /^fetchUrl: url must be a string/],
    ["a relative url", { url: "/f", sha256: hex }, /^fetchUrl: url "\/f" is not an absolute URL/],
    ["an ftp url", { url: "ftp://e.org/f", sha256: hex }, /^fetchUrl: url "ftp:\/\/e.org\/f" must use http or https, not ftp$/],
    ["a newline in the url (the parser would drop it)", { url: "https://e.org/\n../x", sha256: hex }, /^fetchUrl: url .* contains a space, tab, newline or other control character/],
    ["a trailing space", { url: "https://e.org/f ", sha256: hex }, /contains a space/],
    ["no sha256", { url: "https://e.org/f" }, /^fetchUrl https:\/\/e.org\/f: sha256 is required, got nothing; write the 64 hex/],
    ["a short sha256", { url: "https://e.org/f", sha256: "abc" }, /^fetchUrl https:\/\/e.org\/f: sha256 "abc" is not a sha256 hash/],
  ];
  for (const [what, raw, message] of bad) {
    test(`bad-argument: ${what}`, () => {
      assert.throws(
        () => validateFetchArgs(raw, "fetchUrl"),
        (err: unknown) => err instanceof ConfigError && err.reason === "bad-argument" && message.test(err.message),
      );
    });
  }
});
