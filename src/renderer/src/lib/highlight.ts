/** One piece of a search hit's text: marked where the query's words were found. */
export interface TextPart {
  text: string;
  marked: boolean;
}

/** How much of a long hit is shown: the found words stay in view, the rest is cut with "…". */
export const EXCERPT_CHARS = 280;

/**
 * Ranges as the host sent them, made safe to use: whole numbers inside the text, start before end,
 * in order and not overlapping (overlapping ones joined). A host may be older, buggy or hostile.
 */
export function cleanRanges(text: string, ranges: readonly (readonly [number, number])[]): [number, number][] {
  const inside = (n: number): number => Math.min(text.length, Math.max(0, Math.trunc(n)));
  const valid = ranges
    .slice(0, 1000)
    .filter(([start, end]) => Number.isFinite(start) && Number.isFinite(end))
    .map(([start, end]): [number, number] => [inside(start), inside(end)])
    .filter(([start, end]) => start < end)
    .sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const range of valid) {
    const last = out[out.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else out.push([...range]);
  }
  return out;
}

/**
 * The hit's text as plain and marked parts (shown as text nodes and <mark>, never as HTML), cut to
 * about `max` characters around the first found word when it is longer.
 */
export function highlightedParts(
  text: string,
  ranges: readonly (readonly [number, number])[],
  max = EXCERPT_CHARS,
): TextPart[] {
  const clean = cleanRanges(text, ranges);
  let from = 0;
  let to = text.length;
  if (text.length > max) {
    const first = clean[0]?.[0] ?? 0;
    from = Math.max(0, Math.min(first - Math.floor(max / 4), text.length - max));
    to = from + max;
    // Never cut a surrogate pair in half.
    if (from > 0 && isLowSurrogate(text.charCodeAt(from))) from++;
    if (to < text.length && isLowSurrogate(text.charCodeAt(to))) to++;
  }
  const parts: TextPart[] = [];
  const push = (piece: string, marked: boolean): void => {
    if (piece !== '') parts.push({ text: piece, marked });
  };
  let at = from;
  for (const [start, end] of clean) {
    if (end <= from || start >= to) continue;
    push(text.slice(at, Math.max(at, start)), false);
    push(text.slice(Math.max(at, start), Math.min(end, to)), true);
    at = Math.min(end, to);
  }
  push(text.slice(at, to), false);
  if (from > 0) parts.unshift({ text: '…', marked: false });
  if (to < text.length) parts.push({ text: '…', marked: false });
  return parts;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
