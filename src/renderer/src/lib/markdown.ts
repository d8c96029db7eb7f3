/**
 * The Markdown people type in chat, turned into a small tree of plain
 * objects that MessageText.svelte renders as Svelte elements.
 *
 * Why a tree and not markdown-it's HTML with {@html}: the HTML would be safe
 * only as long as two settings held (`html: false` and the link check) and
 * nothing in between ever changed; one slip and a message runs script in
 * everyone's window. Here there is no HTML string at all: the only elements
 * that can appear are the handful in `Tag` below, the only attribute taken
 * from a message is a link's href, and it is checked to be http(s) right
 * where the node is made. Text always ends up as text nodes.
 *
 * The subset: bold, italics, strikethrough, inline code, code blocks, quotes,
 * lists and links (written or bare http(s) URLs). Headings, rules, tables,
 * images and raw HTML stay plain text.
 */
import MarkdownIt, { type Token } from 'markdown-it';

export type Tag =
  'p' | 'strong' | 'em' | 's' | 'code' | 'pre' | 'blockquote' | 'ul' | 'ol' | 'li' | 'br' | 'a' | 'span';

/**
 * `span` is never made from what a message says: lib/markdown-mentions.ts wraps a mentioned @Name
 * in one (`mention`: the reader's own, or someone else's).
 */
export type MdNode =
  | { kind: 'text'; text: string }
  | { kind: 'element'; tag: Tag; children: MdNode[]; href?: string; start?: number; mention?: 'me' | 'other' };

/** Blocks nested deeper than this (quotes in quotes in lists…) are shown as their text. */
export const MAX_NESTING = 12;

/** Only web links: javascript:, data:, file: and the rest are left as the text that was typed. */
export function isWebLink(href: string): boolean {
  try {
    const url = new URL(href);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

const md = new MarkdownIt('zero', {
  html: false,
  linkify: true,
  breaks: true,
  // Above what the prefix check below lets through, so markdown-it never drops the rest of a message.
  maxNesting: 4 * MAX_NESTING,
}).enable([
  'code',
  'fence',
  'blockquote',
  'list',
  'newline',
  'escape',
  'backticks',
  'emphasis',
  'strikethrough',
  'link',
  'autolink',
  'linkify',
]);
// markdown-it's own check allows some data: URLs and every other scheme it does not know to be bad.
md.validateLink = isWebLink;
// Only URLs written with their scheme: "example.org" or "a@b.c" stay text.
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });

const BLOCK_TAGS: Record<string, Tag> = {
  paragraph_open: 'p',
  blockquote_open: 'blockquote',
  bullet_list_open: 'ul',
  ordered_list_open: 'ol',
  list_item_open: 'li',
};
const INLINE_TAGS: Record<string, Tag> = {
  strong_open: 'strong',
  em_open: 'em',
  s_open: 's',
  link_open: 'a',
};

/** Text with nothing Markdown could act on: most chat messages, rendered without running the parser. */
const PLAIN = /^[^*_`~>\\[\]<&\n:]*$/;
const LIST_START = /^\s*(?:[-+*]|\d+[.)])\s/;
/** What can open blocks at the start of a line: quote marks, list markers, indentation. */
const LINE_PREFIX = /^[ \t>*+\-0-9.)]*/gm;

/** Whether some line opens blocks deeper than MAX_NESTING: such a message is shown as typed. */
function tooDeep(text: string): boolean {
  for (const [prefix] of text.matchAll(LINE_PREFIX)) {
    if (prefix.length <= MAX_NESTING) continue;
    let markers = 0;
    let indent = 0;
    for (const ch of prefix) {
      if (ch === ' ') indent++;
      else if (ch === '\t') indent += 4;
      else markers++;
    }
    if (markers > MAX_NESTING || indent > 4 * MAX_NESTING) return true;
  }
  return false;
}

function textNode(text: string): MdNode {
  return { kind: 'text', text };
}

function element(tag: Tag, children: MdNode[] = []): Extract<MdNode, { kind: 'element' }> {
  return { kind: 'element', tag, children };
}

function inline(tokens: readonly Token[]): MdNode[] {
  const root: MdNode[] = [];
  const stack: MdNode[][] = [root];
  const top = (): MdNode[] => stack[stack.length - 1]!;
  for (const token of tokens) {
    const tag = INLINE_TAGS[token.type];
    if (tag) {
      const node = element(tag);
      if (tag === 'a') {
        const href = String(token.attrGet('href') ?? '');
        // validateLink already refused other schemes; this keeps the promise right where the href is used.
        if (!isWebLink(href)) {
          stack.push(top());
          continue;
        }
        node.href = href;
      }
      top().push(node);
      stack.push(node.children);
    } else if (token.type.endsWith('_close')) {
      if (stack.length > 1) stack.pop();
    } else if (token.type === 'code_inline') {
      top().push(element('code', [textNode(token.content)]));
    } else if (token.type === 'softbreak' || token.type === 'hardbreak') {
      top().push(element('br'));
    } else if (token.content) {
      top().push(textNode(token.content));
    }
  }
  return root;
}

/** Parses message text into the nodes to render. Never throws, never returns HTML. */
export function parseMarkdown(text: string): MdNode[] {
  if ((PLAIN.test(text) && !LIST_START.test(text)) || tooDeep(text)) return [element('p', [textNode(text)])];
  const tokens = md.parse(text, {});
  const root: MdNode[] = [];
  const stack: MdNode[][] = [root];
  const top = (): MdNode[] => stack[stack.length - 1]!;
  for (const token of tokens) {
    // A tight list's items hold their text without a paragraph around it.
    if (token.hidden) continue;
    const tag = BLOCK_TAGS[token.type];
    if (tag) {
      const node = element(tag);
      if (tag === 'ol') {
        const start = Number(token.attrGet('start') ?? 1);
        if (Number.isSafeInteger(start) && start !== 1) node.start = start;
      }
      top().push(node);
      stack.push(node.children);
    } else if (token.type.endsWith('_close')) {
      if (stack.length > 1) stack.pop();
    } else if (token.type === 'inline') {
      top().push(...inline(token.children ?? []));
    } else if (token.type === 'fence' || token.type === 'code_block') {
      top().push(element('pre', [element('code', [textNode(token.content.replace(/\n$/, ''))])]));
    } else if (token.content) {
      top().push(textNode(token.content));
    }
  }
  return root;
}

const FIRST_LETTER = /\p{L}/u;
const RTL_SCRIPT =
  /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Adlam}\p{Script=Samaritan}\p{Script=Mandaic}]/u;

/**
 * The direction of a block, from its first letter (the rule dir="auto" follows):
 * Hebrew, Arabic and the other right-to-left scripts make it 'rtl', any other
 * letter 'ltr', no letter at all leaves it to the browser. Chromium does not
 * always work dir="auto" out again when the text arrives after the element,
 * as it does when Svelte fills a block in, so the direction is set outright.
 */
export function directionOf(nodes: readonly MdNode[]): 'rtl' | 'ltr' | 'auto' {
  for (const node of nodes) {
    if (node.kind === 'text') {
      const letter = FIRST_LETTER.exec(node.text);
      if (letter) return RTL_SCRIPT.test(letter[0]) ? 'rtl' : 'ltr';
    } else if (node.tag !== 'code' && node.tag !== 'pre') {
      const inner = directionOf(node.children);
      if (inner !== 'auto') return inner;
    }
  }
  return 'auto';
}

const cache = new Map<string, MdNode[]>();
const CACHE_SIZE = 2_000;

/**
 * parseMarkdown, remembered for the texts seen most recently: scrolling back
 * and forth through a long conversation mounts the same rows again and again.
 */
export function markdown(text: string): MdNode[] {
  let nodes = cache.get(text);
  if (nodes) {
    cache.delete(text);
  } else {
    nodes = parseMarkdown(text);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(text, nodes);
  return nodes;
}
