import { constants } from "node:os";

/** The signals that stop makes. A terminal's hang-up stops it like Ctrl-C rather than leaving builds behind. */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** A shell's exit code for a process ended by `signal`: 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** The abort reason of an interrupted run: which signal it was. */
export class Interrupted extends Error {
  constructor(readonly signalName: StopSignal) {
    super(`interrupted by ${signalName}`);
  }
}

/** The exit code of a run aborted through `interruptSignal`: 128 + the signal's number. */
export function interruptExitCode(signal: AbortSignal): number {
  return signal.reason instanceof Interrupted ? signalExitCode(signal.reason.signalName) : signalExitCode("SIGINT");
}

/**
 * The first SIGINT, SIGTERM or SIGHUP aborts the run (builders' process groups are stopped, temporary
 * directories removed; the command then exits 128 + the signal's number, as a shell reports a process
 * the signal ended); a second one exits at once, with the code of that signal.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = (): void => {
      if (controller.signal.aborted) process.exit(signalExitCode(name));
      controller.abort(new Interrupted(name));
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}
