/**
 * Marks the @Name of each member a message mentions (v1.5) in its parsed
 * Markdown, for MessageText to highlight, more strongly for the reader's own.
 * Only names the message's `mentions` list are marked (an @ in a message is
 * not a mention by itself), and never inside code or a link. The tree from
 * lib/markdown.ts is shared through its cache: this builds a new one.
 */
import type { MdNode } from './markdown.ts';
import { findMention } from './mentions.ts';

export interface MentionedName {
  name: string;
  /** The reader: shown more strongly. */
  me: boolean;
}

const UNTOUCHED = new Set(['code', 'pre', 'a']);

export function withMentions(nodes: readonly MdNode[], names: readonly MentionedName[]): MdNode[] {
  // Longest first: "@Ann Marie" is Ann Marie's even when an Ann is mentioned too.
  const sorted = [...names].filter((n) => n.name !== '').sort((a, b) => b.name.length - a.name.length);
  return sorted.length === 0 ? [...nodes] : mark(nodes, sorted);
}

function mark(nodes: readonly MdNode[], names: readonly MentionedName[]): MdNode[] {
  const out: MdNode[] = [];
  for (const node of nodes) {
    if (node.kind === 'text') out.push(...split(node.text, names));
    else if (UNTOUCHED.has(node.tag)) out.push(node);
    else out.push({ ...node, children: mark(node.children, names) });
  }
  return out;
}

function split(text: string, names: readonly MentionedName[]): MdNode[] {
  const out: MdNode[] = [];
  let rest = text;
  for (;;) {
    let best: { index: number; name: MentionedName } | null = null;
    for (const name of names) {
      const index = findMention(rest, name.name, 0);
      if (index >= 0 && (best === null || index < best.index)) best = { index, name };
    }
    if (!best) break;
    if (best.index > 0) out.push({ kind: 'text', text: rest.slice(0, best.index) });
    const length = best.name.name.length + 1;
    out.push({
      kind: 'element',
      tag: 'span',
      mention: best.name.me ? 'me' : 'other',
      children: [{ kind: 'text', text: rest.slice(best.index, best.index + length) }],
    });
    rest = rest.slice(best.index + length);
  }
  if (rest !== '') out.push({ kind: 'text', text: rest });
  return out;
}
