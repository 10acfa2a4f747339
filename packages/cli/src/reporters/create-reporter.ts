import { JsonReporter } from "./json-reporter.js";
import { PlainReporter } from "./plain-reporter.js";
import type { Reporter, ReporterName } from "./reporter.js";
import { TerminalReporter } from "./terminal-reporter.js";

export function createReporter(name: ReporterName): Reporter {
  switch (name) {
    case "json":
      return new JsonReporter();
    case "plain":
      return new PlainReporter();
    case "terminal":
      return new TerminalReporter();
    case "auto":
      return process.stderr.isTTY && process.env.TERM !== "dumb" && process.env.CI === undefined ? new TerminalReporter() : new PlainReporter();
    default: {
      const never: never = name;
      return never;
    }
  }
}
