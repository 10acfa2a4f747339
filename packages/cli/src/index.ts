export { createReporter } from "./reporters/create-reporter.js";
export type { Reporter, ReporterName } from "./reporters/reporter.js";
