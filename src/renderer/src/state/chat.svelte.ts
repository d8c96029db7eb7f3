import type { ChatApi, ChatEvent, ChatSnapshot, RoomView } from '../../../shared/chat-api.ts';
import type { ChatMessage, Update } from '../../../shared/protocol.ts';
import { isMessageUpdate } from '../../../shared/message-updates.ts';
import { Clock } from './clock.svelte.ts';
import { ConversationsState } from './conversations.svelte.ts';
import { MessageActionsState } from './message-actions.svelte.ts';
import { NearbyState } from './nearby.svelte.ts';
import { ProfileState } from './profile.svelte.ts';
import { RoomState } from './room.svelte.ts';
import { SearchState } from './search.svelte.ts';
import { TransfersState } from './transfers.svelte.ts';

export interface ChatOptions {
  clock?: Clock;
  /** Whether the person can see the window; unread counts only grow for what they cannot see. */
  isVisible?: () => boolean;
}

/**
 * The one listener to the ChatApi: it loads where things stand, then hands
 * each event to the part of the interface's state it concerns. The parts
 * (profile, room, conversations, rooms nearby) hold the state and the commands; this only
 * routes, and owns what spans them: starting up and leaving.
 */
export class ChatState {
  readonly clock: Clock;
  readonly profile: ProfileState;
  readonly room: RoomState;
  readonly conversations: ConversationsState;
  readonly nearby = new NearbyState();
  readonly transfers: TransfersState;
  readonly actions: MessageActionsState;
  readonly search: SearchState;
  /** False until the snapshot is in; the window shows "Loading…" until then. */
  ready = $state(false);

  readonly #api: ChatApi;
  /**
   * Everyone this window has seen in the room and not seen leave. A host that
   * restarts forgets who was there, so people coming back to it are news to
   * the host ("joined") but not to this window: no "joined" note without a "left".
   */
  readonly #present = new Set<string>();
  #unsubscribe: (() => void) | null = null;

  constructor(api: ChatApi, options: ChatOptions = {}) {
    this.#api = api;
    this.clock = options.clock ?? new Clock();
    this.profile = new ProfileState(api);
    this.room = new RoomState(api, () => this.#left());
    this.transfers = new TransfersState(api, (message) => (this.room.notice = message));
    this.conversations = new ConversationsState(api, this.room, {
      isVisible: options.isVisible,
      filesOf: (item) => this.transfers.filesOf(item),
    });
    this.actions = new MessageActionsState(api, this.conversations, this.room);
    this.search = new SearchState(api, this.room, this.conversations);
  }

  /**
   * Subscribes, then reads the snapshot. Events that come while the snapshot
   * is on its way are held and applied after it, in order: each is newer than
   * the snapshot, or already part of it, and replaying those in order ends
   * where the snapshot already was. So an ack that beat the snapshot still
   * resolves the pending message the snapshot may carry, instead of the
   * snapshot bringing it back.
   */
  async start(): Promise<void> {
    const early: ChatEvent[] = [];
    let loading = true;
    this.#unsubscribe = this.#api.onEvent((event) => {
      if (loading) early.push(event);
      else this.#handle(event);
    });
    this.clock.start();
    const snapshot = await this.#api.getState();
    if (snapshot.ok) this.#load(snapshot.value);
    else this.room.notice = snapshot.error.message;
    loading = false;
    for (const event of early) this.#handle(event);
    this.ready = true;
  }

  stop(): void {
    this.conversations.stop();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.clock.stop();
  }

  #handle(event: ChatEvent): void {
    switch (event.type) {
      case 'connection':
        this.room.connectionChanged(event.state);
        break;
      case 'welcome':
        this.#enter(event.room, event.history, event.hasMore, event.resumed);
        this.transfers.files = event.files ?? null;
        if (event.updates) this.room.channels.updated(event.updates);
        if (event.updates) this.#messagesUpdated(event.updates);
        break;
      case 'updates':
        this.room.channels.updated(event.updates);
        this.#messagesUpdated(event.updates);
        break;
      case 'presence': {
        const id = event.member.id;
        // Joining again without having left is coming back; a departure never seen arrive is no news.
        const news =
          event.event === 'joined' && this.#present.has(id)
            ? 'back'
            : event.event === 'left' && !this.#present.has(id)
              ? null
              : event.event;
        if (event.event === 'left') this.#present.delete(id);
        else this.#present.add(id);
        this.room.memberChanged(event.event, event.member);
        if (news) this.conversations.memberChanged(news, event.member);
        break;
      }
      case 'roster':
        this.room.rosterChanged(event.total, event.online, event.complete);
        break;
      case 'messages':
        this.room.presence.learn(event.names);
        this.conversations.received(event.messages);
        break;
      case 'outgoing':
        this.conversations.queued(event.message);
        break;
      case 'messageStatus':
        this.conversations.statusChanged(event.clientId, event.status, event.seq, event.error, event.files);
        break;
      case 'withdrawn':
        // Cancelled before it went: like a message never written, not one that failed.
        this.conversations.outgoing.resolve(event.clientId);
        break;
      case 'typing':
        this.room.someoneTyping(event.from, event.conversation);
        break;
      case 'history':
        this.room.presence.learn(event.names);
        this.conversations.olderPage(event.conversation, event.messages, event.hasMore);
        break;
      case 'hostInfo':
        this.room.hostInfo = event.info;
        break;
      case 'nearby':
        this.nearby.changed(event.rooms, event.status);
        break;
      case 'openInvite':
        this.nearby.inviteOpened(event.address, event.code);
        // The join form is on the start screen: from a room, say where the invite waits.
        if (this.room.inRoom) this.room.notice = 'An invite link was opened: leave this room to join it.';
        break;
      case 'error':
        this.room.notice = event.message;
        break;
      case 'transfer':
        this.transfers.changed(event.transfer);
        break;
      case 'openConversation':
        this.conversations.open(event.conversation);
        break;
      case 'left':
        this.#left();
        this.profile.backAtStart(event);
        break;
    }
  }

  /** Edits, deletions and reactions reach the conversation holding their message; the rest are dropped. */
  #messagesUpdated(updates: readonly Update[]): void {
    const about = updates.filter(isMessageUpdate);
    if (about.length === 0) return;
    for (const conversation of this.conversations.byId.values()) conversation.applyUpdates(about);
  }

  #load(s: ChatSnapshot): void {
    this.room.connectionChanged(s.connection);
    this.room.hostInfo = s.hostInfo;
    this.profile.loaded(s);
    this.nearby.loaded(s);
    this.transfers.loaded(s.transfers, s.files);
    if (s.room) this.#enter(s.room, s.history, s.hasMore, false);
    for (const item of s.outgoing) this.conversations.queued(item);
  }

  #enter(room: RoomView, history: readonly ChatMessage[], hasMore: boolean, resumed: boolean): void {
    // A fresh start knows only the members now here; a resume also remembers those not back yet.
    if (!resumed) this.#present.clear();
    this.#present.add(room.you.id);
    for (const member of room.members) this.#present.add(member.id);
    // The room first: the conversations sort the history by who we are in it.
    this.room.entered(room);
    this.conversations.entered(room.you, history, hasMore, resumed);
  }

  #left(): void {
    this.#present.clear();
    this.transfers.left();
    this.room.left();
    this.conversations.left();
    this.actions.left();
    this.search.clear();
  }
}
