import { lstatSync, readlinkSync } from "node:fs";
import { posix } from "node:path";

/** How many symlinks one path may go through before it is treated as a loop and left unresolved. */
const MAX_LINKS = 40;

/**
 * Canonicalises absolute paths of a root file system (`/bin/ls`) by resolving the symlinks among their PARENT
 * directories the way the kernel would inside a chroot at `root` (absolute targets are relative to `root`, `..`
 * stops at `root`); the last component is left as it is, since it may itself be a symlink the package owns.
 * On a merged-/usr host `/bin/ls` becomes `/usr/bin/ls` and `/lib64/ld-linux-x86-64.so.2` becomes
 * `/usr/lib64/ld-linux-x86-64.so.2`. Directory results are cached; use one resolver per copy or per root.
 */
export class HostPathResolver {
  readonly #root: string;
  readonly #dirs = new Map<string, string>([["/", "/"]]);

  constructor(root: string) {
    this.#root = root;
  }

  /** `path` (absolute, as dpkg lists it) with its parent directories canonical. */
  canonical(path: string): string {
    const normal = posix.normalize(`/${path}`);
    if (normal === "/") return "/";
    return posix.join(this.directory(posix.dirname(normal)), posix.basename(normal));
  }

  /** A directory path with every component resolved. Missing components are kept as written. */
  directory(path: string, depth = 0): string {
    const normal = posix.normalize(`/${path}`);
    const cached = this.#dirs.get(normal);
    if (cached !== undefined) return cached;
    const parent = this.directory(posix.dirname(normal), depth);
    let result = posix.join(parent, posix.basename(normal));
    const target = this.#readlink(result);
    if (target !== undefined && depth < MAX_LINKS) {
      // The parent is canonical (a real directory), so `..` in a relative target can be applied lexically.
      result = this.directory(target.startsWith("/") ? target : posix.join(parent, target), depth + 1);
    }
    this.#dirs.set(normal, result);
    return result;
  }

  #readlink(path: string): string | undefined {
    const onHost = posix.join(this.#root, path);
    try {
      return lstatSync(onHost).isSymbolicLink() ? readlinkSync(onHost) : undefined;
    } catch {
      return undefined;
    }
  }
}
