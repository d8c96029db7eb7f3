/**
 * How a member is told apart at a glance besides their name: a colour that follows their member id
 * (a look-alike name still gets another colour) and the first letter of their name.
 */

/**
 * Hue angles in OKLCH, 30° apart. MemberAvatar.svelte draws them at a fixed lightness under the
 * theme's --accent-text (0.50 under white on light themes, 0.80 under near-black on dark ones), which
 * keeps the letter at a contrast of at least 5.2:1 on every hue, where HSL's yellows and cyans at one
 * lightness would fall near 3:1.
 */
export const MEMBER_HUES = [15, 45, 75, 105, 135, 165, 195, 225, 255, 285, 315, 345] as const;

/** The hue of a member, the same on every machine and every visit. */
export function memberHue(id: string): number {
  // FNV-1a: tiny, and spreads ids that differ in one character.
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return MEMBER_HUES[(hash >>> 0) % MEMBER_HUES.length]!;
}

// One segmenter for every avatar: message rows are created by the dozen per frame while scrolling.
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

// Segmenting is the dearest step of an avatar; a room has few names, so each is worked out once.
const initials = new Map<string, string>();
const MAX_REMEMBERED_INITIALS = 1_000;

/** The first character of a name as a person sees it: a whole emoji, a letter with its accents. */
export function memberInitial(name: string): string {
  let initial = initials.get(name);
  if (initial === undefined) {
    const first = graphemes.segment(name)[Symbol.iterator]().next();
    initial = first.done ? '' : first.value.segment.toLocaleUpperCase();
    if (initials.size >= MAX_REMEMBERED_INITIALS) initials.clear();
    initials.set(name, initial);
  }
  return initial;
}
