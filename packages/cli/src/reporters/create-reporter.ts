import { JsonReporter } from "./json-reporter.js";
import { PlainReporter } from "./plain-reporter.js";
import type { Reporter, ReporterName, ReporterOptions } from "./reporter.js";
import { TerminalReporter } from "./terminal-reporter.js";

export function createReporter(name: ReporterName, options: ReporterOptions = {}): Reporter {
  switch (name) {
    case "json":
      return new JsonReporter();
    case "plain":
      return new PlainReporter(undefined, options);
    case "terminal":
      return new TerminalReporter(process.stderr, options);
    case "auto":
      return process.stderr.isTTY && process.env.TERM !== "dumb" && process.env.CI === undefined ? new TerminalReporter(process.stderr, options) : new PlainReporter(undefined, options);
    default: {
      const never: never = name;
      return never;
    }
  }
}
