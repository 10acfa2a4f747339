import { StoreError } from "@makes/core";

/**
 * An fs error from writing a file the user named (`makes export -o FILE`) as the one line that says what to do
 * about that file: the store is not involved, so the store's advice (--store, `makes gc`) would mislead.
 * Anything else is returned as it is.
 */
export function outputFileError(error: unknown, file: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const elsewhere = "or write it elsewhere with -o FILE";
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return new StoreError("no-space", `No space left on device while writing ${file}; free some space there, ${elsewhere}.`, { cause: error });
    case "EROFS":
      return new StoreError("read-only", `Cannot write ${file}: it is on a read-only file system; ${elsewhere}.`, { cause: error });
    case "EACCES":
    case "EPERM":
      return new StoreError("permission", `Cannot write ${file}: permission denied (${code}); make its directory writable by this user, ${elsewhere}.`, { cause: error });
    default:
      return error;
  }
}
