import { spawn } from "node:child_process";
import { signalExitCode, STOP_SIGNALS } from "./interrupt.js";
import { groupAlive, signalGroup, stopGroup } from "./process-group.js";

/** Time the rest of a script's group gets after SIGTERM, once its leader exited on a passed-on signal, before it is killed. */
const STOP_GRACE_MS = 3000;

/**
 * Runs a built script in the caller's directory with the caller's environment and makes's stdin,
 * stdout and stderr, in a process group of its own. Resolves to its exit code as a shell reports it:
 * the script's own code, or 128 + the number of the signal that ended it.
 *
 * A SIGINT, SIGTERM or SIGHUP that makes receives while the script runs is passed on to the script's
 * whole group, once (Ctrl-C in a terminal reaches makes, whose group the terminal's is, and not the
 * script's); once the script has exited, what is left of its group is stopped, and makes exits only
 * when nothing of it is left: a server and whatever it started do not outlive makes. Being in a
 * session of its own, the script has no controlling terminal: it reads makes's stdin, but a program in
 * it that opens /dev/tty (a password prompt) finds none.
 */
export function runScript(executable: string, scriptArgs: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(executable, [...scriptArgs], { stdio: "inherit", env: process.env, cwd: process.cwd(), detached: true });
    let signalled = false;
    let settled = false;
    const handlers = STOP_SIGNALS.map((name) => {
      const handler = (): void => {
        signalled = true;
        if (child.pid !== undefined) signalGroup(child.pid, name);
      };
      process.on(name, handler);
      return [name, handler] as const;
    });
    const settle = (code: number): void => {
      if (settled) return;
      settled = true;
      for (const [name, handler] of handlers) process.off(name, handler);
      resolve(code);
    };
    child.on("error", () => settle(127));
    child.on("exit", (code, signal) => {
      const result = code ?? signalExitCode(signal ?? "SIGKILL");
      // What the script started and left running (a background job ignores SIGINT) is stopped as watch
      // mode stops a script. Signals that arrive meanwhile are passed on too: the handlers stay.
      if (signalled && child.pid !== undefined && groupAlive(child.pid)) void stopGroup(child.pid, STOP_GRACE_MS).then(() => settle(result));
      else settle(result);
    });
  });
}
