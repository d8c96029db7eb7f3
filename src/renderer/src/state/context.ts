/**
 * How components reach the chat's state: each reads only the part it needs
 * (the room, the conversations, the profile, the clock, the rooms nearby,
 * the window's own UI state) from the context that App sets up, instead of being handed the whole
 * of it as a prop.
 */
import { createContext } from 'svelte';
import type { ChatState } from './chat.svelte.ts';
import type { Clock } from './clock.svelte.ts';
import type { ConversationsState } from './conversations.svelte.ts';
import type { MessageActionsState } from './message-actions.svelte.ts';
import type { NearbyState } from './nearby.svelte.ts';
import type { ProfileState } from './profile.svelte.ts';
import type { RoomState } from './room.svelte.ts';
import type { SearchState } from './search.svelte.ts';
import type { TransfersState } from './transfers.svelte.ts';
import type { AttachmentsState } from './attachments.svelte.ts';
import type { UiState } from './ui.svelte.ts';

export const [getRoom, setRoom] = createContext<RoomState>();
export const [getConversations, setConversations] = createContext<ConversationsState>();
export const [getProfile, setProfile] = createContext<ProfileState>();
export const [getClock, setClock] = createContext<Clock>();
export const [getUi, setUi] = createContext<UiState>();
export const [getNearby, setNearby] = createContext<NearbyState>();
export const [getTransfers, setTransfers] = createContext<TransfersState>();
export const [getSearch, setSearch] = createContext<SearchState>();
/** Replies, edits, deletions and reactions in progress (v1.5): the message list and the composer share them. */
export const [getMessageActions, setMessageActions] = createContext<MessageActionsState>();
/** The files waiting to be sent, per conversation: the composer's tray and the conversation's drop zone share them. */
export const [getAttachments, setAttachments] = createContext<AttachmentsState>();

/** Makes each part of `chat` available below the calling component; call it while that component initialises. */
export function provideChat(chat: ChatState): void {
  setRoom(chat.room);
  setConversations(chat.conversations);
  setProfile(chat.profile);
  setClock(chat.clock);
  setNearby(chat.nearby);
  setTransfers(chat.transfers);
  setSearch(chat.search);
  setMessageActions(chat.actions);
}
