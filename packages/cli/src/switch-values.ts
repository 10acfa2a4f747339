import { UsageError } from "@makes/core";

/**
 * yargs reads a value given to a boolean flag (`--keep-going=maybe`, `-L=1`) as false, silently. A switch
 * takes no value: `=true` and `=false` are accepted (yargs' own spelling, which scripts use to pass a
 * variable), any other value is a usage error naming the flag. `switches` are the boolean options of the
 * command line being run, as yargs keys them (`keep-going`, `L`); `--no-<switch>` and camelCase spellings
 * are the same flag.
 */
export function checkSwitchValues(args: readonly string[], switches: Iterable<string>): void {
  const known = new Set(switches);
  for (const arg of args) {
    const match = /^(--?)([^=]+)=(.*)$/s.exec(arg);
    if (match === null) continue;
    const [, dashes = "", name = "", value = ""] = match;
    if (dashes === "-" && name.length !== 1) continue; // `-ab=x`: not one flag, left to yargs
    const key = name.length === 1 ? name : name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const isSwitch = known.has(key) || (key.startsWith("no-") && known.has(key.slice(3)));
    if (!isSwitch || value === "true" || value === "false") continue;
    const flag = `${dashes}${name}`;
    throw new UsageError("bad-flag", `${flag} takes no value (got ${JSON.stringify(arg)}); write ${flag} alone to turn it on, or leave it out`);
  }
}
