/**
 * The default branch of an exhaustive switch over a discriminated union: a compile error when a
 * case is missing, a thrown error if a value from outside the type arrives at run time anyway.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what} ${JSON.stringify(value)}`);
}
