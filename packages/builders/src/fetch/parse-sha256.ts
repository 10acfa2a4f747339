/**
 * The lower-case hex form of a sha256 given as 64 hex characters (any case) or as an SRI hash
 * `sha256-<base64>` (what npm lockfiles and Nix's `hash =` use). Undefined when it is neither.
 */
export function parseSha256(value: string): string | undefined {
  const trimmed = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return trimmed.toLowerCase();
  const sri = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(trimmed);
  if (sri?.[1] !== undefined) {
    const bytes = Buffer.from(sri[1], "base64");
    if (bytes.length === 32) return bytes.toString("hex");
  }
  return undefined;
}
