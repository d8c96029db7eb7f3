import { describe, expect, it } from 'vitest';
import {
  directionOf,
  isWebLink,
  MAX_NESTING,
  type MdNode,
  parseMarkdown,
} from '../../src/renderer/src/lib/markdown.ts';

/** The nodes as compact HTML-like text, for readable expectations (this is not how they are rendered). */
function show(nodes: MdNode[]): string {
  return nodes
    .map((n) =>
      n.kind === 'text'
        ? n.text
        : n.tag === 'br'
          ? '<br>'
          : `<${n.tag}${n.href ? ` href=${n.href}` : ''}${n.start ? ` start=${n.start}` : ''}>${show(n.children)}</${n.tag}>`,
    )
    .join('');
}

const html = (text: string) => show(parseMarkdown(text));

/** Every text in the tree, concatenated: what a person reads. */
function allText(nodes: MdNode[]): string {
  return nodes.map((n) => (n.kind === 'text' ? n.text : allText(n.children))).join('');
}

function depth(nodes: MdNode[]): number {
  return Math.max(0, ...nodes.map((n) => (n.kind === 'text' ? 0 : 1 + depth(n.children))));
}

function hrefs(nodes: MdNode[]): string[] {
  return nodes.flatMap((n) => (n.kind === 'text' ? [] : [...(n.href ? [n.href] : []), ...hrefs(n.children)]));
}

describe('the Markdown subset in messages', () => {
  it('formats bold, italics, strikethrough, inline code, code blocks, quotes and lists', () => {
    expect(html('**bold** and _it_ and *it* and ~~gone~~ and `x < y`')).toBe(
      '<p><strong>bold</strong> and <em>it</em> and <em>it</em> and <s>gone</s> and <code>x < y</code></p>',
    );
    expect(html('```\nconst a = 1;\n  indented\n```')).toBe('<pre><code>const a = 1;\n  indented</code></pre>');
    expect(html('> quoted\n> twice')).toBe('<blockquote><p>quoted<br>twice</p></blockquote>');
    expect(html('- one\n- two')).toBe('<ul><li>one</li><li>two</li></ul>');
    expect(html('3. three\n4. four')).toBe('<ol start=3><li>three</li><li>four</li></ol>');
    expect(html('line one\nline two')).toBe('<p>line one<br>line two</p>');
  });

  it('makes links only of http(s) URLs, written or bare', () => {
    expect(html('[docs](https://example.org/d) and https://example.org/x.')).toBe(
      '<p><a href=https://example.org/d>docs</a> and <a href=https://example.org/x>https://example.org/x</a>.</p>',
    );
    for (const text of [
      '[x](javascript:alert(1))',
      '[x](JAVASCRIPT:alert(1))',
      '[x](data:text/html,<script>alert(1)</script>)',
      '[x](vbscript:msgbox)',
      '[x](file:///etc/passwd)',
      '[x](mailto:a@b.test)',
      '[x](ftp://files.test/a)',
      '[x](tel:+4412345)',
      '<mailto:a@b.test>',
      '<javascript:alert(1)>',
      'javascript:alert(1)',
      'data:text/html;base64,PHNjcmlwdD4=',
      'example.org and a@b.test',
    ]) {
      expect(hrefs(parseMarkdown(text)), text).toEqual([]);
      expect(allText(parseMarkdown(text)), text).toBe(text);
    }
    expect(isWebLink('https://x.test/')).toBe(true);
    expect(isWebLink('http:/x')).toBe(true); // the URL parser normalises it to http://x/
    expect(isWebLink('ftp://x.test/')).toBe(false);
  });

  it('keeps HTML as the text that was typed', () => {
    const nasty = '<img src=x onerror=alert(1)> <script>window.pwned=true</script> <b>b</b> &amp;';
    expect(html(nasty)).toBe(`<p>${nasty}</p>`);
  });

  it('shows quotes nested 1,000 deep as typed, without deep trees or lost words', () => {
    const text = `${'>'.repeat(1_000)} deep`;
    const nodes = parseMarkdown(text);
    expect(allText(nodes)).toBe(text);
    expect(depth(nodes)).toBeLessThanOrEqual(MAX_NESTING + 2);
    const spaced = `${'> '.repeat(1_000)}deep`;
    expect(allText(parseMarkdown(spaced))).toBe(spaced);
    const nestedLists = Array.from({ length: 300 }, (_, i) => `${'  '.repeat(i)}- item ${i}`).join('\n');
    expect(allText(parseMarkdown(nestedLists))).toContain('item 299');
  });

  it('parses a 16,000-character line quickly and whole', () => {
    const line = 'word *x* '.repeat(1_778).slice(0, 16_000);
    const started = performance.now();
    const nodes = parseMarkdown(line);
    // A guard against runaway (quadratic) parsing, not a benchmark: it takes ~20 ms; 200 ms failed once on two cores shared with a dozen processes.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(allText(nodes).length).toBeGreaterThan(12_000);
    const unbroken = 'a'.repeat(16_000);
    expect(allText(parseMarkdown(unbroken))).toBe(unbroken);
    const stars = '*'.repeat(16_000);
    expect(allText(parseMarkdown(stars)).length).toBeGreaterThan(0);
  });
});

describe('the direction of a message', () => {
  it('follows the first letter, as dir="auto" does, skipping code and punctuation', () => {
    expect(directionOf(parseMarkdown('שלום לכולם!'))).toBe('rtl');
    expect(directionOf(parseMarkdown('  123, مرحبا؟'))).toBe('rtl');
    expect(directionOf(parseMarkdown('Hello שלום'))).toBe('ltr');
    expect(directionOf(parseMarkdown('`code` שלום'))).toBe('rtl');
    expect(directionOf(parseMarkdown('123 !?'))).toBe('auto');
  });
});
