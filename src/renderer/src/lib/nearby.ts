/**
 * Rooms nearby as the start screen shows them: which recent room is on the
 * same machine, what to hand `join`, the order and the filter. Pure, so it is
 * tested without a DOM.
 */
import type { RecentRoom } from '../../../shared/chat-api.ts';
import { parseRoomAddress } from '../../../shared/address.ts';
import type { NearbyRoom } from '../../../shared/discovery.ts';

/** How long the start screen looks before it says nothing was found and why that may be. */
export const NOTHING_FOUND_AFTER_MS = 8_000;

/** Above this many rooms the list gets a filter box. */
export const FILTER_FROM = 8;

/** "host:port" of a room address however it was written (a bare address, ws://, an invite); the text when it is none. */
export function machineOf(address: string): string {
  const parsed = parseRoomAddress(address);
  return parsed.ok ? new URL(parsed.url).host : address.trim().toLowerCase();
}

/** Whether a recent room was on one of the machines the announcement gives (the same host:port). */
export function joinedBefore(room: NearbyRoom, recent: readonly RecentRoom[]): boolean {
  if (recent.length === 0) return false;
  const machines = new Set(recent.map((r) => machineOf(r.address)));
  return [room.address, ...room.addresses].some((address) => machines.has(machineOf(address)));
}

/**
 * What to join: with the announced fingerprint as an invite's `#fp=`, so the app holds the host to
 * it; an unencrypted room as ws:// (a bare address means encrypted, which such a host cannot answer).
 */
export function joinAddressOf(room: NearbyRoom): string {
  if (room.fingerprint) return `https://${room.address}/#fp=${room.fingerprint}`;
  return `ws://${room.address}`;
}

/** A stable order a person can scan: by room name, then by host, then by address, numbers by value. */
export function sortedRooms(rooms: readonly NearbyRoom[]): NearbyRoom[] {
  // "Room 2" before "Room 10", and 10.0.0.9 before 10.0.0.10.
  const compare = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });
  return [...rooms].sort(
    (a, b) => compare(a.roomName, b.roomName) || compare(a.hostName, b.hostName) || compare(a.address, b.address),
  );
}

/** Rooms whose name, host or address contains every word typed, in any case. */
export function filteredRooms(rooms: readonly NearbyRoom[], filter: string): readonly NearbyRoom[] {
  const words = filter.toLocaleLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return rooms;
  return rooms.filter((room) => {
    const text = `${room.roomName}\n${room.hostName}\n${room.address}`.toLocaleLowerCase();
    return words.every((word) => text.includes(word));
  });
}
