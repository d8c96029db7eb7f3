/**
 * A QR code as one SVG path: the module matrix comes from uqr (no DOM, no
 * innerHTML), each row's runs of dark modules become rectangles, so the
 * interface draws it with ordinary Svelte elements under the strict CSP.
 */
import { encode } from 'uqr';

export interface QrDrawing {
  /** Modules across, the quiet zone included. */
  size: number;
  /** The dark modules, in module units. */
  path: string;
}

/** Four modules of light margin, as the standard asks, so phones find the code next to other things. */
const QUIET_ZONE = 4;

/** Medium error correction: a screen's glare or a smudge still scans, and an invite stays a small code. */
export function qrDrawing(text: string): QrDrawing {
  const { data, size } = encode(text, { ecc: 'M', border: QUIET_ZONE });
  let path = '';
  data.forEach((row, y) => {
    let x = 0;
    while (x < size) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && row[x]) x++;
      path += `M${start} ${y}h${x - start}v1h${start - x}z`;
    }
  });
  return { size, path };
}
