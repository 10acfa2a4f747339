import { ConfigError, sanitiseName } from "@makes/core";
import { checkKnownKeys } from "../check-known-keys.js";
import { describeValue, quoted } from "../quoted.js";
import { parseSha256 } from "./parse-sha256.js";

export type FetchBuilderName = "fetchUrl" | "fetchArchive";

export interface FetchArgs {
  /** The URL as given (validated to be http or https). */
  readonly url: string;
  /** Lower-case hex. */
  readonly sha256: string;
  /** A valid store name. */
  readonly name: string;
}

const STORE_NAME = /^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*$/;
const MAX_NAME = 200;
/** URLs are long (release assets): a message shows this much of one. */
const MAX_SHOWN_URL = 200;
/** Stripped from fetchArchive's default name: the store path holds the unpacked tree, not the archive. */
const ARCHIVE_SUFFIX = /\.(tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2|tar|zip)$/i;

/**
 * Checks the argument object of `fetchUrl` / `fetchArchive` ({ url, sha256, name? }) and returns it normalised.
 * - `url`: an absolute http or https URL;
 * - `sha256`: 64 hex characters or an SRI `sha256-<base64>` (returned as lower-case hex);
 * - `name`: optional; when given it must already be a valid store name (`[A-Za-z0-9+._?=-]`, no leading dot,
 *   at most 200 characters) — a name the user chose is not silently changed. When absent it is the URL's last
 *   non-empty path segment (percent-decoded), sanitised; for fetchArchive without its archive extension; and
 *   the host name when the path has no segment.
 * Anything else is a ConfigError("bad-argument") that names the builder, the value and what to write instead.
 */
export function validateFetchArgs(raw: unknown, builder: FetchBuilderName): FetchArgs {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw bad(`${builder} expects an object { url, sha256, name? }, got ${describeValue(raw)}`);
  }
  const args = raw as Record<string, unknown>;
  checkKnownKeys(builder, "argument", args, ["url", "sha256", "name"]);
  if (typeof args.url !== "string") throw bad(`${builder}: url must be a string (an http or https URL), got ${describeValue(args.url)}`);
  // The URL parser silently drops tabs and newlines and trims spaces, so "https://host/\n../x" would fetch
  // something the user did not write: whitespace and control characters are refused instead.
  if (/[\u0000-\u0020\u007f]/.test(args.url)) {
    throw bad(`${builder}: url ${quoted(args.url, MAX_SHOWN_URL)} contains a space, tab, newline or other control character; percent-encode it (a space is %20)`);
  }
  let url: URL;
  try {
    url = new URL(args.url);
  } catch {
    throw bad(`${builder}: url ${quoted(args.url, MAX_SHOWN_URL)} is not an absolute URL; write it as https://host/path`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw bad(`${builder}: url ${quoted(args.url, MAX_SHOWN_URL)} must use http or https, not ${url.protocol.slice(0, -1)}`);
  }
  // The URL as parsed, cut short: it starts every message below.
  const shownUrl = url.href.length > MAX_SHOWN_URL ? `${url.href.slice(0, MAX_SHOWN_URL)}…` : url.href;
  const shaHint = `; write the 64 hex characters that \`sha256sum FILE\` prints (or an SRI "sha256-…"), or put "${"0".repeat(64)}" and copy the real hash from the mismatch error`;
  if (typeof args.sha256 !== "string") throw bad(`${builder} ${shownUrl}: sha256 is required, got ${describeValue(args.sha256)}${shaHint}`);
  const sha256 = parseSha256(args.sha256);
  if (sha256 === undefined) throw bad(`${builder} ${shownUrl}: sha256 ${describeValue(args.sha256)} is not a sha256 hash${shaHint}`);

  let name: string;
  if (args.name === undefined) {
    name = defaultName(url, builder);
  } else if (typeof args.name !== "string" || !STORE_NAME.test(args.name) || args.name.length > MAX_NAME) {
    throw bad(
      `${builder} ${shownUrl}: name ${describeValue(args.name)} is not a valid store name; use letters, digits and + . _ ? = - (not starting with a dot, at most ${MAX_NAME} characters), e.g. "${defaultName(url, builder)}"`,
    );
  } else {
    name = args.name;
  }
  return { url: args.url, sha256, name };
}

function defaultName(url: URL, builder: FetchBuilderName): string {
  const segment = url.pathname.split("/").filter((s) => s !== "").at(-1);
  let base = segment === undefined ? url.hostname : safeDecode(segment);
  if (builder === "fetchArchive") base = base.replace(ARCHIVE_SUFFIX, "") || base;
  return sanitiseName(base).slice(0, MAX_NAME);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function bad(message: string): ConfigError {
  return new ConfigError("bad-argument", message);
}
