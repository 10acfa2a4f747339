/** `n` and the noun that goes with it: "1 store path", "3 store paths". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
