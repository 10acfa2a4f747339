/** A user's value in a one-line message: quoted and escaped (a newline shows as \n), at most `max` characters. */
export function quoted(value: string, max = 80): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
