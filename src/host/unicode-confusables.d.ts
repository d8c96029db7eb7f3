// unicode-confusables 0.1.1 ships its types under a misspelt file name (index.ts.d), so TypeScript cannot find them.
declare module 'unicode-confusables' {
  /** Replaces each code point with its prototype from Unicode's confusables.txt and drops zero-width ones. */
  export function rectifyConfusion(input: string): string;
}
