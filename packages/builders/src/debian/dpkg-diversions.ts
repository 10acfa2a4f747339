import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** `dpkg-divert`: the file `from` of packages other than `by` lives at `to` on disk. `by` is ":" for a local one. */
export interface DpkgDiversion {
  readonly from: string;
  readonly to: string;
  readonly by: string;
}

/**
 * Reads `<root>/var/lib/dpkg/diversions` (three lines per diversion: from, to, diverting package).
 * A missing file means no diversions.
 */
export async function readDpkgDiversions(root: string): Promise<DpkgDiversion[]> {
  let text: string;
  try {
    text = await readFile(join(root, "var/lib/dpkg/diversions"), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const lines = text.split("\n");
  const diversions: DpkgDiversion[] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const [from, to, by] = [lines[i], lines[i + 1], lines[i + 2]];
    if (from && to && by) diversions.push({ from, to, by });
  }
  return diversions;
}
