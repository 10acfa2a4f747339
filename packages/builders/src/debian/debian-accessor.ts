/**
 * How a user writes the node of a Debian package in makes.ts: `inputs.debian.coreutils` for a name that is a
 * JavaScript identifier, else `inputs.debian["libgcc-s1"]` (`inputs.debian.libgcc-s1` would be a subtraction).
 * Messages use it so that what they suggest can be pasted as is.
 */
export function debianAccessor(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `inputs.debian.${name}` : `inputs.debian[${JSON.stringify(name)}]`;
}
