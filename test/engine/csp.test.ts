import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../src/shared/csp.ts';

describe('the Content-Security-Policy', () => {
  it('allows no inline or foreign script and no connection beyond the page’s own origin', () => {
    const policy = contentSecurityPolicy({ header: true });
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toMatch(/script-src[^;]*unsafe/);
    expect(policy).toContain("connect-src 'self';");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(contentSecurityPolicy()).not.toContain('localhost');
  });

  it('is written into the built page exactly as the headers send it (no drift)', () => {
    const html = readFileSync('out/renderer/index.html', 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html);
    expect(meta?.[1]?.replaceAll('&#39;', "'")).toBe(contentSecurityPolicy());
  });
});
