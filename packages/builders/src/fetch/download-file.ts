import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { BuildError, storeErrorFrom, makeDirs } from "@makes/core";
import { parseSha256 } from "./parse-sha256.js";

export interface DownloadFileOptions {
  readonly url: string;
  /** 64 hex characters or SRI `sha256-<base64>`; checked before `dest` is created. */
  readonly sha256: string;
  /** Where the file ends up. Its directory is created if needed. Written only once the hash matches. */
  readonly dest: string;
  /** Extra attempts after the first for retryable failures (5xx, 408, 429, network errors, a truncated body). Default 3. */
  readonly retries?: number;
  readonly signal?: AbortSignal;
  /** Replaces the global fetch (tests, proxies). */
  readonly fetchImpl?: typeof fetch;
  /** What every message starts with, naming the caller and the URL. Default `fetchUrl <url>`. */
  readonly label?: string;
  /** Delay before the first retry, doubled for each further one. Default 500 ms. */
  readonly backoffMs?: number;
}

/** A failure of one attempt; `retry` says whether another attempt may succeed. */
class AttemptFailure extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/**
 * Downloads `url` to `dest` with Node's built-in fetch (redirects followed), streaming to a temporary file next
 * to `dest` while hashing, and renames it into place only when its sha256 matches: `dest` is never a partial or
 * wrong file, and nothing is left behind on failure.
 *
 * - The request asks for `Accept-Encoding: identity` so the bytes hashed are the bytes the server stores (fetch
 *   would otherwise transparently decompress a `Content-Encoding: gzip` response).
 * - Not retried: 4xx other than 408 and 429 (the URL is wrong, retrying does not help); a hash mismatch; abort.
 * - Retried with exponential backoff: 5xx, 408, 429, network errors, a body that ends before its
 *   Content-Length.
 * - A mismatch is BuildError("hash-mismatch") with both hashes; an exhausted or fatal download is
 *   BuildError("download-failed") with the URL, the reason and the number of attempts. Abort rethrows the
 *   signal's reason.
 */
export async function downloadFile(options: DownloadFileOptions): Promise<{ size: number }> {
  const { url, dest, signal } = options;
  const label = options.label ?? `fetchUrl ${url}`;
  const expected = parseSha256(options.sha256);
  if (expected === undefined) throw new Error(`downloadFile: sha256 "${options.sha256}" is not a sha256 hash (validate with validateFetchArgs first)`);
  const attempts = 1 + Math.max(0, options.retries ?? 3);
  const backoff = options.backoffMs ?? 500;
  await makeDirs(dirname(dest));

  let lastReason = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    signal?.throwIfAborted();
    const tmp = join(dirname(dest), `.${basename(dest)}.download-${randomBytes(6).toString("hex")}`);
    try {
      const { digest, size } = await attemptDownload(url, tmp, options.fetchImpl ?? fetch, signal);
      if (digest !== expected) {
        throw new BuildError(
          "hash-mismatch",
          `${label}: sha256 mismatch: expected ${expected}, got ${digest}; update sha256 if the new content is right`,
        );
      }
      await rename(tmp, dest);
      return { size };
    } catch (err) {
      await rm(tmp, { force: true });
      if (signal?.aborted === true) throw signal.reason;
      if (!(err instanceof AttemptFailure)) throw err;
      lastReason = err.message;
      if (!err.retry) return fail(label, lastReason, attempt);
    }
    if (attempt < attempts) await sleep(backoff * 2 ** (attempt - 1), undefined, { signal });
  }
  return fail(label, lastReason, attempts);
}

async function attemptDownload(url: string, tmp: string, fetchImpl: typeof fetch, signal: AbortSignal | undefined): Promise<{ digest: string; size: number }> {
  let response: Response;
  try {
    response = await fetchImpl(url, { redirect: "follow", headers: { "accept-encoding": "identity" }, ...(signal ? { signal } : {}) });
  } catch (err) {
    throw new AttemptFailure(networkReason(err), true);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    const retry = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new AttemptFailure(status, retry);
  }
  if (response.body === null) throw new AttemptFailure("the response has no body", true);

  const hash = createHash("sha256");
  let size = 0;
  const expectedLength = Number(response.headers.get("content-length") ?? Number.NaN);
  try {
    await pipeline(
      // DOM and node:stream/web ReadableStream types differ only nominally.
      Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      }),
      createWriteStream(tmp, { mode: 0o644 }),
    );
  } catch (err) {
    // A write error (disk full, permissions) is not the server's fault and not worth retrying.
    if (isFsError(err)) throw storeErrorFrom(err, `downloading ${url}`);
    const got = Number.isFinite(expectedLength) ? `${size} of ${expectedLength} bytes` : `${size} bytes`;
    throw new AttemptFailure(`the connection dropped after ${got} (${networkReason(err)})`, true);
  }
  if (Number.isFinite(expectedLength) && size !== expectedLength) {
    throw new AttemptFailure(`the body ended after ${size} of ${expectedLength} bytes`, true);
  }
  return { digest: hash.digest("hex"), size };
}

/** undici wraps the useful part (ECONNREFUSED, "other side closed") in `cause`. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  // System codes (ECONNREFUSED) say more than their message; undici's own codes (UND_ERR_SOCKET) say less.
  const detail = cause?.code !== undefined && !cause.code.startsWith("UND_ERR") ? cause.code : cause?.message;
  const message = err instanceof Error ? err.message : String(err);
  return detail === undefined || detail === message ? message : `${message}: ${detail}`;
}

function isFsError(err: unknown): boolean {
  const syscall = (err as NodeJS.ErrnoException | undefined)?.syscall;
  return syscall === "open" || syscall === "write" || syscall === "close";
}

function fail(label: string, reason: string, attempts: number): never {
  throw new BuildError("download-failed", `${label}: ${reason} after ${attempts} attempt${attempts === 1 ? "" : "s"}`);
}
