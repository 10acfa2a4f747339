/** The process groups of scripts that makes starts (`makes run /script`, watch mode's scripts). */

const POLL_MS = 20;

/** Time a script's process group gets to exit after SIGTERM before it is killed: enough for a server to close its connections. */
export const SCRIPT_STOP_GRACE_MS = 3000;

/** Whether any process of the group is left (one we may not signal counts: it is there). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** Resolves once no process of the group is left, or `ms` have passed. */
async function groupExit(pgid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
}

/**
 * Stops the whole group: SIGTERM, then SIGKILL for what is left after `graceMs`; resolves once it is
 * gone. The leader (bash) may exit before the programs it started: a server must be gone (its port
 * free) before makes exits or starts another.
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  await groupExit(pgid, graceMs);
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, "SIGKILL");
  await groupExit(pgid, 1000);
}
