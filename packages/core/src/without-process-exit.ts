/**
 * Runs `fn`, which evaluates the user's makes.ts, with `process.exit` turned into a thrown error: a makes.ts
 * that calls it would otherwise end makes with that code having done nothing, which reads as success. The
 * error is thrown at the call, so the message names the makes.ts line like any other throw.
 */
export async function withoutProcessExit<T>(fn: () => Promise<T>): Promise<T> {
  const exit = process.exit;
  process.exit = ((code?: number | string | null) => {
    throw new Error(`process.exit(${code === undefined ? "" : String(code)}) was called; makes.ts must return its jobs, not end the process`);
  }) as typeof process.exit;
  try {
    return await fn();
  } finally {
    process.exit = exit;
  }
}
