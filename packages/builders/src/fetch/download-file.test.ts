import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BuildError } from "@makes/core";
import { downloadFile } from "./download-file.js";

const content = Buffer.from("hello makes\n".repeat(10_000));
const sha256 = createHash("sha256").update(content).digest("hex");
const sri = `sha256-${createHash("sha256").update(content).digest("base64")}`;

/** Requests seen per path, so tests can count attempts. */
const hits = new Map<string, number>();
let server: Server;
let base: string;

before(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path === "/file" || (path === "/flaky" && n > 1)) {
      res.writeHead(200, { "content-length": content.length });
      res.end(content);
    } else if (path === "/redirect") {
      res.writeHead(302, { location: "/file" });
      res.end();
    } else if (path === "/flaky" || path === "/always-drops") {
      // Promise the whole body, send half of it, then cut the connection.
      res.writeHead(200, { "content-length": content.length });
      res.write(content.subarray(0, content.length / 2), () => res.socket?.destroy());
    } else if (path === "/busy") {
      res.writeHead(503);
      res.end();
    } else {
      res.writeHead(404);
      res.end("not here");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const scratch = mkdtempSync(join(tmpdir(), "makes-fetch-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
/** A fresh empty directory and a destination inside it. */
function freshDest(): { dir: string; dest: string } {
  const dir = join(scratch, `t${counter++}`);
  return { dir, dest: join(dir, "out", "file.txt") };
}

const fast = { backoffMs: 1 };

describe("downloadFile from a local HTTP server", () => {
  test("success: the file is at dest with the right content", async () => {
    const { dest } = freshDest();
    const { size } = await downloadFile({ url: `${base}/file`, sha256, dest, ...fast });
    assert.equal(size, content.length);
    assert.ok(readFileSync(dest).equals(content));
    assert.deepEqual(readdirSync(join(dest, "..")), ["file.txt"], "no temporary file is left beside dest");
  });

  test("an SRI sha256 is accepted", async () => {
    const { dest } = freshDest();
    await downloadFile({ url: `${base}/file`, sha256: sri, dest, ...fast });
    assert.ok(existsSync(dest));
  });

  test("hash mismatch: both hashes in the message, nothing at dest, not retried (bad-input case 12)", async () => {
    const { dest } = freshDest();
    const wrong = "0".repeat(64);
    const before = hits.get("/file") ?? 0;
    await assert.rejects(
      downloadFile({ url: `${base}/file`, sha256: wrong, dest, ...fast }),
      (err: unknown) =>
        err instanceof BuildError &&
        err.reason === "hash-mismatch" &&
        err.message === `fetchUrl ${base}/file: sha256 mismatch: expected ${wrong}, got ${sha256}; update sha256 if the new content is right`,
    );
    assert.equal(hits.get("/file"), before + 1);
    assert.deepEqual(readdirSync(join(dest, "..")), [], "nothing stored, no temporary file left");
  });

  test("a redirect (302 → 200) is followed", async () => {
    const { dest } = freshDest();
    await downloadFile({ url: `${base}/redirect`, sha256, dest, ...fast });
    assert.ok(readFileSync(dest).equals(content));
  });

  test("404: one attempt, a clear message", async () => {
    const { dest } = freshDest();
    await assert.rejects(
      downloadFile({ url: `${base}/missing`, sha256, dest, ...fast }),
      (err: unknown) =>
        err instanceof BuildError && err.reason === "download-failed" && err.message === `fetchUrl ${base}/missing: HTTP 404 Not Found after 1 attempt`,
    );
    assert.equal(hits.get("/missing"), 1);
    assert.ok(!existsSync(dest));
  });

  test("a connection that drops mid-body is retried and the next attempt succeeds", async () => {
    const { dest } = freshDest();
    await downloadFile({ url: `${base}/flaky`, sha256, dest, ...fast });
    assert.equal(hits.get("/flaky"), 2);
    assert.ok(readFileSync(dest).equals(content));
    assert.deepEqual(readdirSync(join(dest, "..")), ["file.txt"]);
  });

  test("a connection that always drops fails after the retries run out, leaving nothing", async () => {
    const { dest } = freshDest();
    await assert.rejects(downloadFile({ url: `${base}/always-drops`, sha256, dest, retries: 2, ...fast }), (err: unknown) => {
      assert.ok(err instanceof BuildError && err.reason === "download-failed");
      assert.match(err.message, new RegExp(`^fetchUrl ${base}/always-drops: the connection dropped after \\d+ of ${content.length} bytes .* after 3 attempts$`));
      return true;
    });
    assert.equal(hits.get("/always-drops"), 3);
    assert.deepEqual(readdirSync(join(dest, "..")), []);
  });

  test("5xx is retried; the label names the builder", async () => {
    const { dest } = freshDest();
    await assert.rejects(
      downloadFile({ url: `${base}/busy`, sha256, dest, retries: 1, label: `fetchArchive ${base}/busy`, ...fast }),
      (err: unknown) => err instanceof BuildError && err.message === `fetchArchive ${base}/busy: HTTP 503 Service Unavailable after 2 attempts`,
    );
    assert.equal(hits.get("/busy"), 2);
  });

  test("a refused connection is a network error, retried", async () => {
    const { dest } = freshDest();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      downloadFile({ url, sha256, dest, retries: 1, ...fast }),
      (err: unknown) => err instanceof BuildError && err.message === `fetchUrl ${url}: fetch failed: ECONNREFUSED after 2 attempts`,
    );
  });

  test("an aborted signal stops the download with the abort reason", async () => {
    const { dest } = freshDest();
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(downloadFile({ url: `${base}/file`, sha256, dest, signal: controller.signal }), /stop/);
    assert.ok(!existsSync(dest));
  });
});
