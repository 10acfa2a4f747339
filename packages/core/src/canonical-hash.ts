import { createHash } from "node:crypto";

/**
 * The canonical encoding that every node hash is taken over. Versioned so that a change of encoding
 * can never collide with an older store. Every value is tagged and length-delimited, so no two
 * different values encode to the same bytes ("ab","c" differs from "a","bc").
 */
export const HASH_ENCODING_VERSION = "makes-hash-v1";

export type Canonical = string | number | boolean | null | Buffer | readonly Canonical[] | { readonly [key: string]: Canonical | undefined };

function encodeInto(value: Canonical | undefined, parts: Buffer[]): void {
  if (value === undefined || value === null) {
    parts.push(Buffer.from("n;"));
  } else if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    parts.push(Buffer.from(`s${bytes.length}:`), bytes);
  } else if (typeof value === "number") {
    parts.push(Buffer.from(`i${String(value)};`));
  } else if (typeof value === "boolean") {
    parts.push(Buffer.from(value ? "t;" : "f;"));
  } else if (Buffer.isBuffer(value)) {
    parts.push(Buffer.from(`b${value.length}:`), value);
  } else if (Array.isArray(value)) {
    parts.push(Buffer.from(`l${value.length}:`));
    for (const item of value as readonly Canonical[]) encodeInto(item, parts);
  } else {
    const record = value as { readonly [key: string]: Canonical | undefined };
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
    parts.push(Buffer.from(`m${keys.length}:`));
    for (const key of keys) {
      encodeInto(key, parts);
      encodeInto(record[key], parts);
    }
  }
}

export function canonicalBytes(value: Canonical): Buffer {
  const parts: Buffer[] = [];
  encodeInto(HASH_ENCODING_VERSION, parts);
  encodeInto(value, parts);
  return Buffer.concat(parts);
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Nix's base-32 alphabet (no e, o, u, t), so store names read like Nix's. */
const BASE32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz";

/** Base-32 of the first 20 bytes of a digest: 32 characters, 160 bits, as in Nix store paths. */
export function base32Hash(digest: Buffer): string {
  const bytes = digest.subarray(0, 20);
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/** The 32-character hash that names a node in the store. */
export function nodeHashOf(value: Canonical): string {
  return base32Hash(createHash("sha256").update(canonicalBytes(value)).digest());
}
