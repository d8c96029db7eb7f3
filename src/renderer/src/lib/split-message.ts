import { DEFAULT_ROOM_LIMITS, WIRE_LIMITS } from '../../../shared/protocol.ts';

/** Room for the rest of a `send` frame around its text: type, clientId, recipient. */
const FRAME_OVERHEAD = 256;

export interface SplitLimits {
  /** Characters (UTF-16 code units, as the protocol counts them) in one message. */
  maxChars: number;
  /** Bytes in one frame, the text as JSON-escaped UTF-8 plus the frame around it. */
  maxFrameBytes: number;
}

export const DEFAULT_SPLIT_LIMITS: SplitLimits = {
  maxChars: WIRE_LIMITS.textChars,
  maxFrameBytes: DEFAULT_ROOM_LIMITS.maxMessageBytes,
};

const encoder = new TextEncoder();

/** The bytes `text` takes inside a JSON frame. */
function frameBytes(text: string): number {
  return encoder.encode(JSON.stringify(text)).length + FRAME_OVERHEAD;
}

function fits(text: string, limits: SplitLimits): boolean {
  return text.length <= limits.maxChars && frameBytes(text) <= limits.maxFrameBytes;
}

/** The longest prefix of `text` that fits, found by halving (bytes per character vary). */
function longestFit(text: string, limits: SplitLimits): number {
  let low = 0;
  let high = Math.min(text.length, limits.maxChars);
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(text.slice(0, middle), limits)) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * Splits text too long for one message into messages that each fit, in
 * order and losing nothing: cut after a paragraph, else after a line, else
 * after a space, else anywhere but inside a surrogate pair. Text that fits is
 * returned as it is.
 */
export function splitMessage(text: string, limits: SplitLimits = DEFAULT_SPLIT_LIMITS): string[] {
  const parts: string[] = [];
  let rest = text;
  while (!fits(rest, limits)) {
    let cut = longestFit(rest, limits);
    const window = rest.slice(0, cut);
    // Only a break in the second half is worth it: the parts stay few and similar in size.
    const floor = Math.floor(cut / 2);
    for (const separator of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(separator);
      if (at >= floor) {
        cut = at + separator.length;
        break;
      }
    }
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    if (cut <= 0) cut = 1;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  parts.push(rest);
  return parts;
}
