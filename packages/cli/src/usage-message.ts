/**
 * yargs' wording of a usage problem, as one line that names the flag and says what it takes. yargs
 * names an option by its key (`store`, `C`, `keep-since`); `values` maps a key to what the option takes
 * ("a directory, for example --store /var/cache/makes"). A message with no rule here is kept, on one line.
 */
export function usageMessage(yargsMessage: string, values: ReadonlyMap<string, string>): string {
  const missing = /^Not enough arguments following: (\S+)$/.exec(yargsMessage.trim());
  if (missing !== null) {
    const key = missing[1] ?? "";
    const takes = values.get(key);
    return `${flagOf(key)} needs a value${takes === undefined ? "" : `: ${takes}`}`;
  }
  const invalid = /^Invalid values:\s+Argument: (\S+), Given: (.*), Choices: (.*)$/m.exec(yargsMessage);
  if (invalid !== null) return `${flagOf(invalid[1] ?? "")} must be one of ${invalid[3] ?? ""} (got ${invalid[2] ?? ""})`;
  return yargsMessage.replace(/\s*\n\s*/g, " ").trim();
}

/** How a user spells the option with this yargs key. */
export function flagOf(key: string): string {
  return key.length === 1 ? `-${key}` : `--${key}`;
}
