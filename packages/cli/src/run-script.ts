import { spawn } from "node:child_process";
import { signalExitCode, STOP_SIGNALS } from "./interrupt.js";
import { groupAlive, SCRIPT_STOP_GRACE_MS, signalGroup, stopGroup } from "./process-group.js";


/**
 * Runs a built script in the caller's directory with the caller's environment and makes's stdin,
 * stdout and stderr. Resolves to its exit code as a shell reports it: the script's own code, or 128 +
 * the number of the signal that ended it.
 *
 * - Run from a terminal (stdin is a TTY), the script stays in makes's process group, as a shell runs its
 *   foreground job: the terminal is its controlling terminal (a password prompt on /dev/tty works), and
 *   Ctrl-C or a hang-up reaches the script and everything it started straight from the terminal, so
 *   makes does not pass SIGINT on again; it waits for the script, and passes a SIGTERM sent to makes alone
 *   on to the script's process.
 * - Otherwise (CI, a supervisor, a pipe) the script gets a process group of its own: a SIGINT, SIGTERM or
 *   SIGHUP that makes receives is passed on to that whole group, once; when the script has exited what is
 *   left of its group is stopped, and makes exits only when nothing of it is left, so a server and
 *   whatever it started do not outlive makes.
 */
export function runScript(executable: string, scriptArgs: readonly string[]): Promise<number> {
  const ownGroup = process.stdin.isTTY !== true;
  return new Promise((resolve) => {
    const child = spawn(executable, [...scriptArgs], { stdio: "inherit", env: process.env, cwd: process.cwd(), detached: ownGroup });
    let signalled = false;
    let settled = false;
    const handlers = STOP_SIGNALS.map((name) => {
      const handler = (): void => {
        signalled = true;
        if (child.pid === undefined) return;
        if (ownGroup) signalGroup(child.pid, name);
        else if (name === "SIGTERM") child.kill(name); // the terminal's signals reached the script already
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
      if (ownGroup && signalled && child.pid !== undefined && groupAlive(child.pid)) void stopGroup(child.pid, SCRIPT_STOP_GRACE_MS).then(() => settle(result));
      else settle(result);
    });
  });
}
