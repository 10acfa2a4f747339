/** The NUL-separated parts of git's `-z` output (the last NUL ends the last part). */
export function nulSeparated(text: string): string[] {
  const parts = text.split("\0");
  parts.pop(); // the empty string after the last NUL
  return parts;
}

/**
 * git's NUL-separated records as text, without those whose path is not valid UTF-8: such a name has no JS string
 * that names the same file, so it is left out of the text and, if it exists on disk (the index can hold a deleted
 * one), returned escaped (`\xff`) in `invalid`.
 */
export function decodeRecords(output: Buffer, pathOf: (record: Buffer) => Buffer, exists: (path: Buffer) => boolean): { text: string; invalid: string[] } {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  try {
    return { text: decoder.decode(output), invalid: [] };
  } catch {
    const kept: string[] = [];
    const invalid = new Set<string>();
    let at = 0;
    while (at < output.length) {
      const end = output.indexOf(0, at);
      const record = output.subarray(at, end < 0 ? output.length : end);
      at = end < 0 ? output.length : end + 1;
      try {
        kept.push(`${decoder.decode(record)}\0`);
      } catch {
        const path = pathOf(record);
        if (exists(path)) invalid.add(escapeInvalid(path));
      }
    }
    return { text: kept.join(""), invalid: [...invalid] };
  }
}

/** A name with its bytes that are not UTF-8 written as `\xNN`, for messages. */
export function escapeInvalid(bytes: Buffer): string {
  let out = "";
  for (let at = 0; at < bytes.length; ) {
    let length = 1;
    for (let n = Math.min(4, bytes.length - at); n > 0; n--) {
      try {
        out += new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(at, at + n));
        length = n;
        break;
      } catch {
        if (n === 1) out += `\\x${(bytes[at] ?? 0).toString(16).padStart(2, "0")}`;
      }
    }
    at += length;
  }
  return out;
}
