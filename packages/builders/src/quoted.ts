/** A user's value in a one-line message: quoted and escaped (a newline shows as \n), at most `max` characters. */
export function quoted(value: string, max = 80): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** What a user gave, for "got …" in a one-line message: `"text"`, `an empty string`, `the number 2`, `an array`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string": return value === "" ? "an empty string" : quoted(value);
    case "number": case "boolean": case "bigint": return `the ${typeof value} ${String(value)}`;
    case "object": return "an object";
    default: return `a ${typeof value}`;
  }
}
