/**
 * Parsed Markdown (lib/markdown.ts) turned into DOM nodes for MessageText.
 *
 * Why not Svelte's own {#each}/<svelte:element> over the tree: every node then
 * carries its own block and effects, and rows are created by the dozen per
 * frame while someone scrolls through a long conversation; building the few
 * elements directly costs a fraction of that. The guarantees are the same:
 * elements only from the Tag list, text only as text nodes (never innerHTML),
 * and a link's href is the one attribute a message sets (http(s), checked in
 * lib/markdown.ts where the node is made).
 */
import { directionOf, type MdNode } from './markdown.ts';

/** Blocks whose direction follows their own first letter, as dir="auto" would. */
const DIRECTED = new Set(['p', 'li', 'blockquote', 'ul', 'ol']);

function append(parent: Node, nodes: readonly MdNode[]): void {
  for (const node of nodes) {
    if (node.kind === 'text') {
      parent.appendChild(document.createTextNode(node.text));
      continue;
    }
    const element = document.createElement(node.tag);
    if (DIRECTED.has(node.tag)) element.dir = directionOf(node.children);
    if (node.tag === 'a' && node.href !== undefined) {
      element.setAttribute('href', node.href);
      element.setAttribute('target', '_blank');
      element.setAttribute('rel', 'noopener noreferrer');
    }
    if (node.mention !== undefined) element.className = node.mention === 'me' ? 'mention mention-me' : 'mention';
    if (node.tag === 'ol' && node.start !== undefined) element.setAttribute('start', String(node.start));
    append(element, node.children);
    parent.appendChild(element);
  }
}

/** The DOM for `nodes`, ready to put into a message's text block. */
export function markdownFragment(nodes: readonly MdNode[]): DocumentFragment {
  const fragment = document.createDocumentFragment();
  append(fragment, nodes);
  return fragment;
}
