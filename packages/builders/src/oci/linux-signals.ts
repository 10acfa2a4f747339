import { closestName } from "@makes/core";

/**
 * The signal names a container runtime on Linux accepts for an image's StopSignal: moby/sys/signal's Linux map
 * (Docker, containerd and podman parse it), upper case, without the SIG prefix. Real-time signals are
 * RTMIN, RTMIN+1 … RTMIN+15, RTMAX-14 … RTMAX-1 and RTMAX, as in that map.
 */
const NAMES: readonly string[] = [
  "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE", "POLL", "PROF",
  "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM",
  "WINCH", "XCPU", "XFSZ",
  "RTMIN", ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`), ...Array.from({ length: 14 }, (_, i) => `RTMAX-${14 - i}`), "RTMAX",
];
const KNOWN = new Set(NAMES);

/** What `isLinuxSignal` accepts, for messages. */
export const LINUX_SIGNAL_FORMS =
  'a Linux signal: a name such as "SIGTERM" or "TERM" (any case; HUP, INT, QUIT, KILL, USR1, USR2, TERM, STOP, WINCH, … , RTMIN, RTMIN+1 to RTMIN+15, RTMAX-14 to RTMAX-1, RTMAX) or its number from 1 to 64 as a string such as "15"';

/**
 * Whether `value` is a StopSignal that Docker's ParseSignal accepts on Linux: a known name with or without `SIG`,
 * in any case, or a number from 1 to 64 (Linux has signals 1 to 64) written in decimal.
 */
export function isLinuxSignal(value: string): boolean {
  if (/^[1-9][0-9]?$/.test(value)) return Number(value) <= 64;
  return KNOWN.has(value.toUpperCase().replace(/^SIG/, ""));
}

/** The known name closest to an unknown one (`SIGTREM` → `SIGTERM`), or undefined when none is close. */
export function closestSignal(value: string): string | undefined {
  const near = closestName(value.toUpperCase().replace(/^SIG/, ""), NAMES);
  return near === undefined ? undefined : `SIG${near}`;
}
