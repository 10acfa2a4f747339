import { createHash } from "node:crypto";

/**
 * The canonical encoding that every node hash is taken over. Versioned so that a change of encoding
 * can never collide with an older store. Every value is tagged and length-delimited, so no two
 * different values encode to the same bytes ("ab","c" differs from "a","bc").
 */
export const HASH_ENCODING_VERSION = "makes-hash-v1";

export type Canonical = string | number | boolean | null | Buffer | Encoded | readonly Canonical[] | { readonly [key: string]: Canonical | undefined };

/**
 * A value already in its canonical encoding, spliced in as it is: made only by encodedRows, which writes the
 * very bytes encodeInto would, in one loop (a monorepo's source trees are ten thousand rows of four cells, and
 * the general encoder costs a call per cell).
 */
export class Encoded {
  private constructor(readonly text: string) {}

  /** The encoding of `rows` as a list of lists, for rows of strings and integers. */
  static rows(rows: readonly (readonly (string | number)[])[]): Encoded {
    // Pieces joined once: `+=` would leave a chain of a string object per cell for the collector.
    const parts: string[] = [`l${rows.length}:`];
    for (const row of rows) {
      parts.push(`l${row.length}:`);
      for (const cell of row) {
        if (typeof cell === "string") parts.push(`s${Buffer.byteLength(cell, "utf8")}:`, cell);
        else if (Number.isSafeInteger(cell)) parts.push(`i${String(cell)};`);
        else throw new Error(`internal: Encoded.rows takes strings and integers, got ${String(cell)}`);
      }
    }
    return new Encoded(parts.join(""));
  }
}

/**
 * Appends the encoding of `value` to `parts`. Tags, lengths and strings accumulate in one JS string
 * (`text`), flushed only before a Buffer value, so encoding allocates one string per run of text
 * instead of two Buffers per value. Every user string sits between ASCII tags, so encoding the joined
 * text as UTF-8 gives the same bytes as encoding each piece alone (a lone surrogate stays alone).
 */
class Encoder {
  readonly parts: Array<string | Buffer> = [];
  text = "";

  buffer(value: Buffer): void {
    this.parts.push(this.text, value);
    this.text = "";
  }

  finish(): Array<string | Buffer> {
    this.parts.push(this.text);
    this.text = "";
    return this.parts;
  }
}

function encodeInto(value: Canonical | undefined, enc: Encoder): void {
  if (value === undefined || value === null) {
    enc.text += "n;";
  } else if (typeof value === "string") {
    enc.text += `s${Buffer.byteLength(value, "utf8")}:${value}`;
  } else if (typeof value === "number") {
    enc.text += `i${String(value)};`;
  } else if (typeof value === "boolean") {
    enc.text += value ? "t;" : "f;";
  } else if (value instanceof Encoded) {
    enc.text += value.text;
  } else if (Buffer.isBuffer(value)) {
    enc.text += `b${value.length}:`;
    enc.buffer(value);
  } else if (Array.isArray(value)) {
    enc.text += `l${value.length}:`;
    for (const item of value as readonly Canonical[]) encodeInto(item, enc);
  } else {
    const record = value as { readonly [key: string]: Canonical | undefined };
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
    enc.text += `m${keys.length}:`;
    for (const key of keys) {
      encodeInto(key, enc);
      encodeInto(record[key], enc);
    }
  }
}

function encodedParts(value: Canonical): Array<string | Buffer> {
  const enc = new Encoder();
  encodeInto(HASH_ENCODING_VERSION, enc);
  encodeInto(value, enc);
  return enc.finish();
}

export function canonicalBytes(value: Canonical): Buffer {
  return Buffer.concat(encodedParts(value).map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
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
  const hash = createHash("sha256");
  for (const part of encodedParts(value)) hash.update(part);
  return base32Hash(hash.digest());
}
