import { checkDisplayName } from '../../../shared/display-name.ts';
import { MAX_PORT, WIRE_LIMITS } from '../../../shared/protocol.ts';
import { validPort } from '../../../shared/address.ts';

/** One parser for the form and for joining (src/shared/address.ts). */
export { addressProblem } from '../../../shared/address.ts';

/** The host's own rules (checkDisplayName), said before joining instead of after a refusal. */
export function nameProblem(raw: string): string | null {
  const value = raw.trim();
  if (value === '') return 'Enter your name.';
  if (value.length > WIRE_LIMITS.nameChars) return `Names can be at most ${WIRE_LIMITS.nameChars} characters.`;
  const check = checkDisplayName(value);
  return check.ok ? null : check.reason;
}

/** The host command's own limit, said while typing instead of after a refusal. */
export function roomNameProblem(raw: string): string | null {
  const value = raw.trim();
  const max = WIRE_LIMITS.roomNameChars;
  if (value === '') return 'Enter a room name.';
  if (value.length > max) return `Room names can be at most ${max} characters.`;
  return null;
}

/** Port to host on; 0 lets the system pick any free port. */
export function portProblem(raw: string): string | null {
  const value = raw.trim();
  if (value === '0' || validPort(value)) return null;
  return `The port must be a number from 1 to ${MAX_PORT}, or 0 for any free port.`;
}

export function codeProblem(raw: string): string | null {
  if (raw.trim().length > WIRE_LIMITS.codeChars)
    return `Join codes can be at most ${WIRE_LIMITS.codeChars} characters.`;
  return null;
}

/** One generator for the app, the browser and the headless host (src/shared/ids.ts). */
export { randomJoinCode as generateJoinCode } from '../../../shared/ids.ts';
