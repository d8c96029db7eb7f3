/**
 * ChatFeed: the join side of the ChatApi, shared by the desktop app (in main,
 * over `ws`) and the browser client (in the page, over WebSocket). It turns a
 * RoomClient's events into ChatEvents, one per fact, and keeps a snapshot of
 * the latest messages (with the edits, deletions and reactions they had
 * since) and of the room's channels, so an interface that (re)loads can catch
 * up with getState().
 *
 * Conversations (v1.5): 'room' is the default channel, "c_…" another channel
 * of the room, any other id the member at the other end of a direct
 * conversation (isChannelId tells them apart).
 */
import { parseRoomAddress } from './address.ts';
import {
  type ChatEvent,
  type ChatSnapshot,
  type CommandInput,
  type ConversationId,
  type LastHosted,
  type MembersAnswer,
  type OutgoingMessage,
  type RecentRoom,
  type Result,
  ROOM,
  type RoomView,
  type SearchAnswer,
  type SendReceipt,
} from './chat-api.ts';
import { applyToChannels, applyToMessages } from './message-updates.ts';
import type { ErrorCode } from './errors.ts';
import { type FileAccess, FileOutbox, type FilePlatform, type OutgoingFile } from './file-outbox.ts';
import { originOfRoom } from './files.ts';
import { fail, ok } from './result.ts';
import {
  type Channel,
  type ChatMessage,
  DEFAULT_CHANNEL,
  type FileRef,
  isChannelId,
  type Member,
  type ReplyQuote,
  type Update,
  WIRE_LIMITS,
  type WelcomeFrame,
} from './protocol.ts';
import { type HostPin, RoomClient, type RoomClientOptions, type SocketFactory } from './room-client.ts';
import type { SendExtras } from './outbox.ts';

/** Messages kept for getState(); older ones are paged from the host on demand. */
export const SNAPSHOT_MESSAGES = 500;

/**
 * loadAround asks for the page of messages before `seq + AROUND_AFTER` (AROUND_PAGE of them), so
 * the target is on it with others after it. Seqs are shared by the whole room (every channel, every
 * direct conversation, every update), so at most AROUND_AFTER - 1 of the page's messages come
 * after the target, fewer in a busy room; the target is always on a page of AROUND_PAGE.
 */
export const AROUND_AFTER = 26;
export const AROUND_PAGE = 50;

/**
 * Whether a room's address is this very computer. The host counts a member as "the host" (who may
 * rename and archive any channel, and create channels when only the host may) when its connection
 * comes from 127.0.0.1 or ::1 (PROTOCOL.md §19.2); no frame says so, and a client that joined
 * over loopback is exactly such a member.
 */
export function joinedFromHostMachine(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === '127.0.0.1' || host === '[::1]' || host === 'localhost';
  } catch {
    return false;
  }
}

export interface JoinRequest {
  address: string;
  name: string;
  code: string;
  resume?: { token: string; lastSeq: number };
  /** The fingerprint already trusted for this host (remembered, or just checked by the person); it wins over an invite's. */
  pin?: HostPin;
}

/** What the start screen shows after leaving; the owner of the feed knows it. */
export interface StartInfo {
  recentRooms: RecentRoom[];
  displayName: string;
  lastHosted?: LastHosted | null;
}

/** `F`: a file as this runtime has it (a File in a browser, a path or bytes on Node). */
export class ChatFeed<F = never> {
  readonly #socketFactory: SocketFactory;
  readonly #filePlatform: FilePlatform<F> | null;
  /** This room's uploads (a new one for every join). */
  #uploads: FileOutbox<F> | null = null;
  /** What the latest welcome said about files; null when the room takes none. */
  #files: NonNullable<WelcomeFrame['files']> | null = null;
  /** Every file a message of this room has shown (live, in history pages): what a download must get. */
  readonly #fileRefs = new Map<string, FileRef>();
  readonly #emit: (event: ChatEvent) => void;
  readonly #startInfo: () => StartInfo;
  readonly #clientOptions: Partial<RoomClientOptions>;
  #client: RoomClient | null = null;
  #unsubscribe: (() => void)[] = [];
  #room: RoomView | null = null;
  #history: ChatMessage[] = [];
  /** Sequence numbers in #history. */
  readonly #kept = new Set<number>();
  #hasMore = false;
  /** Names the host told for people on the pages seen (those who left included), by member id. */
  #names: Record<string, string> = {};
  /** Own messages sent and not acknowledged yet, to enter the snapshot once they are. */
  readonly #unacknowledged = new Map<string, OutgoingMessage>();
  /** The seq the latest welcome's channel list stands at: older channel updates would undo it. */
  #channelsAsOf = 0;

  constructor(options: {
    socketFactory: SocketFactory;
    emit: (event: ChatEvent) => void;
    startInfo: () => StartInfo;
    clientOptions?: Partial<RoomClientOptions>;
    /** How this runtime reads and uploads files; without it, sendFiles refuses. */
    files?: FilePlatform<F>;
  }) {
    this.#socketFactory = options.socketFactory;
    this.#filePlatform = options.files ?? null;
    this.#emit = options.emit;
    this.#startInfo = options.startInfo;
    this.#clientOptions = options.clientOptions ?? {};
  }

  get client(): RoomClient | null {
    return this.#client;
  }

  /** Joins a room; resolves once welcomed, or with the reason it could not join. */
  async join(request: JoinRequest): Promise<Result<null>> {
    const address = parseRoomAddress(request.address);
    if (!address.ok) return fail('BEACON_ERR_BAD_ADDRESS');
    // A fingerprint already trusted for this host wins over an invite's: an invite is only text
    // anyone can hand out (even in the room itself), and must not re-pin a known host silently.
    // When the two differ, the host proves which one it has, and a mismatch is the person's call.
    const pin: HostPin | undefined =
      request.pin && request.pin.fingerprint !== address.fingerprint
        ? request.pin
        : address.fingerprint
          ? { fingerprint: address.fingerprint, trust: 'invite' }
          : undefined;
    this.leave();
    const client = new RoomClient({
      ...this.#clientOptions,
      url: address.url,
      name: request.name,
      code: request.code,
      socketFactory: this.#socketFactory,
      resume: request.resume,
      ...(pin ? { pin } : {}),
    });
    this.#client = client;
    this.#uploads = this.#filePlatform && this.#fileOutbox(client, this.#filePlatform);
    this.#wire(client);
    try {
      await client.connect();
      return ok(null);
    } catch (error) {
      const { code, message, retryAfterMs } = error as { code: ErrorCode; message: string; retryAfterMs?: number };
      if (this.#client === client) this.leave();
      return fail(code, message, retryAfterMs);
    }
  }

  leave(): void {
    const client = this.#client;
    if (!client) return;
    this.#client = null;
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#uploads?.stopAll();
    this.#uploads = null;
    this.#files = null;
    this.#fileRefs.clear();
    client.close();
    this.#room = null;
    this.#history = [];
    this.#kept.clear();
    this.#unacknowledged.clear();
    this.#hasMore = false;
    this.#names = {};
    this.#emit({ type: 'connection', state: { kind: 'idle' } });
    this.#emit({ type: 'left', ...this.#startInfo() });
  }

  send(
    conversation: ConversationId,
    text: string,
    options: { replyTo?: number; mentions?: string[] } = {},
  ): Result<SendReceipt> {
    const client = this.#client;
    if (!client || !this.#room) return fail('BEACON_ERR_NOT_JOINED');
    const target = this.#sendTarget(conversation);
    if (!target.ok) return target;
    const { to, channel } = target.value;
    const message = client.send(text, to, conversation, undefined, { ...channel, ...options });
    if (message.status === 'pending') this.#unacknowledged.set(message.clientId, message);
    // Emitted before any status of it can be: the interface learns of the message first, then of its ack.
    this.#emit({ type: 'outgoing', message });
    return ok({ clientId: message.clientId });
  }

  /**
   * Sends files with a caption: the message is pending at once (with its transfers), and goes once
   * every file is uploaded.
   */
  sendFiles(conversation: ConversationId, text: string, files: OutgoingFile<F>[]): Result<SendReceipt> {
    const client = this.#client;
    if (!client || !this.#room) return fail('BEACON_ERR_NOT_JOINED');
    const uploads = this.#uploads;
    if (!uploads || !this.#files) return fail('BEACON_ERR_NO_FILES');
    if (files.length === 0 || files.length > WIRE_LIMITS.filesPerMessage) {
      return fail('BEACON_ERR_INVALID_INPUT', `Send 1 to ${WIRE_LIMITS.filesPerMessage} files at a time.`);
    }
    const target = this.#sendTarget(conversation);
    if (!target.ok) return target;
    const { to, channel } = target.value;
    const transfers = uploads.plan(files.length);
    const message = client.send(text, to, conversation, transfers, channel);
    if (message.status === 'pending') this.#unacknowledged.set(message.clientId, message);
    this.#emit({ type: 'outgoing', message });
    if (message.status === 'pending') uploads.start(message.clientId, conversation, transfers, files);
    return ok({ clientId: message.clientId });
  }

  async cancelTransfer(id: string): Promise<Result<null>> {
    return (await this.#uploads?.cancel(id))
      ? ok(null)
      : fail('BEACON_ERR_INVALID_INPUT', 'That transfer is not running.');
  }

  retryTransfer(id: string): Result<null> {
    return this.#uploads?.retry(id) ? ok(null) : fail('BEACON_ERR_INVALID_INPUT', 'That transfer cannot be retried.');
  }

  /** The record of a file that a message in this room has shown (its size and hash), or null. */
  fileRef(id: string): FileRef | null {
    return this.#fileRefs.get(id) ?? null;
  }

  /** Where and as whom this member fetches and uploads files now; null when the room takes none. */
  fileAccess(): FileAccess | null {
    const client = this.#client;
    const files = this.#files;
    if (!client || !files) return null;
    return {
      origin: originOfRoom(client.url),
      token: files.token,
      pin: client.pin?.fingerprint ?? null,
      maxFileBytes: files.maxFileBytes,
      maxUploadsInFlight: files.maxUploadsInFlight,
    };
  }

  retry(clientId: string): Result<null> {
    // A message whose upload failed goes again by resuming its uploads.
    if (this.#uploads?.retryMessage(clientId)) return ok(null);
    return this.#client?.retry(clientId)
      ? ok(null)
      : fail('BEACON_ERR_INVALID_INPUT', 'That message cannot be retried.');
  }

  retryNow(): Result<null> {
    this.#client?.retryNow();
    return ok(null);
  }

  retryWithCode(code: string): Result<null> {
    if (!this.#client) return fail('BEACON_ERR_NOT_JOINED');
    this.#client.retryWithCode(code);
    return ok(null);
  }

  typing(conversation: ConversationId): Result<null> {
    if (isChannelId(conversation)) this.#client?.typing(null, conversation);
    else this.#client?.typing(conversation);
    return ok(null);
  }

  setStatus(status: 'online' | 'away'): Result<null> {
    this.#client?.setStatus(status);
    return ok(null);
  }

  loadOlder(conversation: ConversationId, before: number): Result<null> {
    if (!this.#client) return fail('BEACON_ERR_NOT_JOINED');
    this.#client.loadOlder(conversation, before);
    return ok(null);
  }

  // ── v1.5 conversations: each answers once the host has done it; the change arrives as 'updates'

  /**
   * Loads the page of `conversation` that holds message `seq` (a reply's quote or a search hit
   * opened where it is): a 'history' event, the target on it with some of what followed it.
   */
  loadAround(conversation: ConversationId, seq: number): Result<null> {
    const client = this.#client;
    if (!client) return fail('BEACON_ERR_NOT_JOINED');
    if (client.state.kind !== 'connected') return fail('BEACON_ERR_OFFLINE');
    client.loadOlder(conversation, seq + AROUND_AFTER, AROUND_PAGE);
    return ok(null);
  }

  async edit(input: CommandInput<'edit'>): Promise<Result<null>> {
    const client = this.#client;
    if (!client) return fail('BEACON_ERR_NOT_JOINED');
    return nothing(await client.edit(input.seq, input.text, input.mentions));
  }

  async deleteMessage(input: CommandInput<'deleteMessage'>): Promise<Result<null>> {
    const client = this.#client;
    if (!client) return fail('BEACON_ERR_NOT_JOINED');
    return nothing(await client.deleteMessage(input.seq));
  }

  async react(input: CommandInput<'react'>): Promise<Result<null>> {
    const client = this.#client;
    if (!client) return fail('BEACON_ERR_NOT_JOINED');
    return nothing(await client.react(input.seq, input.emoji, input.on));
  }

  createChannel(input: CommandInput<'createChannel'>): Promise<Result<Channel>> {
    const topic = input.topic.length > 0 ? { topic: input.topic } : {};
    return this.#changeChannel({ op: 'create', name: input.name, ...topic });
  }

  updateChannel(input: CommandInput<'updateChannel'>): Promise<Result<Channel>> {
    const name = input.name === undefined ? {} : { name: input.name };
    const topic = input.topic === undefined ? {} : { topic: input.topic };
    return this.#changeChannel({ op: 'update', id: input.id, ...name, ...topic });
  }

  archiveChannel(input: CommandInput<'archiveChannel'>): Promise<Result<Channel>> {
    return this.#changeChannel({ op: 'archive', id: input.id, archived: input.archived });
  }

  async search(input: CommandInput<'search'>): Promise<Result<SearchAnswer>> {
    const client = this.#client;
    if (!client) return fail('BEACON_ERR_NOT_JOINED');
    const answer = await client.search(input);
    if (!answer.ok) return answer;
    this.#learnNames(answer.value.names);
    // A hit's files may be downloaded from the results, so they count as shown.
    for (const hit of answer.value.hits) this.#learnFiles([hit.message, ...hit.before, ...hit.after]);
    return ok({ hits: answer.value.hits, hasMore: answer.value.hasMore, names: { ...answer.value.names } });
  }

  // ── v1.6 large rooms: the member list is paged, and presence comes for the rows watched

  /** A page of the member list in name order (from the host, or cut from the whole list an older host sent). */
  async members(input: CommandInput<'members'>): Promise<Result<MembersAnswer>> {
    const client = this.#client;
    if (!client) return fail('BEACON_ERR_NOT_JOINED');
    const answer = await client.members(input);
    if (!answer.ok) return answer;
    return ok({ members: answer.value.members, offset: answer.value.offset, total: answer.value.total });
  }

  /** The members whose presence should arrive (the rows on screen); kept across reconnects. */
  async watchMembers(input: CommandInput<'watchMembers'>): Promise<Result<MembersAnswer>> {
    const client = this.#client;
    if (!client) return fail('BEACON_ERR_NOT_JOINED');
    const answer = await client.watch(input.ids);
    if (!answer.ok) return answer;
    this.#refreshKnown(answer.value.members);
    return ok({ members: answer.value.members, offset: answer.value.offset, total: answer.value.total });
  }

  /** The join-side part of the snapshot; the desktop app adds host info and settings. */
  snapshot(): Pick<ChatSnapshot, 'connection' | 'room' | 'history' | 'hasMore' | 'outgoing' | 'transfers' | 'files'> {
    return {
      transfers: this.#uploads?.transfers ?? [],
      files: this.#files && { maxFileBytes: this.#files.maxFileBytes },
      connection: this.#client?.state ?? { kind: 'idle' },
      room: this.#room && {
        ...this.#room,
        members: [...this.#room.members],
        names: { ...this.#names },
        ...(this.#room.channels ? { channels: [...this.#room.channels] } : {}),
        ...(this.#room.features ? { features: [...this.#room.features] } : {}),
        ...(this.#room.memberCount ? { memberCount: { ...this.#room.memberCount } } : {}),
      },
      history: [...this.#history],
      hasMore: this.#hasMore,
      outgoing: this.#client?.outbox ?? [],
    };
  }

  #wire(client: RoomClient): void {
    this.#unsubscribe.push(
      client.on('state', (state) => this.#emit({ type: 'connection', state })),
      client.on('welcome', (welcome, continues) => {
        // A welcome that does not continue where this client left off (first join, rejoin with a token) is a fresh start.
        if (!continues) {
          this.#history = [];
          this.#kept.clear();
        }
        this.#learnNames(welcome.names);
        this.#files = welcome.files ?? null;
        this.#room = this.#roomView(client, welcome);
        this.#channelsAsOf = welcome.lastSeq;
        this.#remember(welcome.history);
        const updates = welcome.updates ?? [];
        // What was kept from before the drop catches up with what happened to it meanwhile.
        this.#history = applyToMessages(this.#history, updates);
        if (!continues) this.#hasMore = welcome.hasMore;
        this.#emit({
          type: 'welcome',
          room: { ...this.#room, names: { ...this.#names } },
          history: welcome.history,
          hasMore: welcome.hasMore,
          resumed: continues,
          files: this.#files && { maxFileBytes: this.#files.maxFileBytes },
          ...(updates.length > 0 ? { updates } : {}),
        });
      }),
      client.on('message', (message) => {
        this.#remember([message]);
        this.#emit({ type: 'messages', messages: [message] });
      }),
      client.on('status', (update) => {
        // The host does not echo our own messages back: an acknowledged one enters the snapshot here.
        const mine = this.#unacknowledged.get(update.clientId);
        if (update.status === 'sent' && update.seq !== undefined && mine && this.#room) {
          this.#unacknowledged.delete(update.clientId);
          const inChannel = isChannelId(mine.conversation);
          const to = inChannel ? null : mine.conversation;
          const { clientId, text, ts } = mine;
          // Our own copy of a message with files: the host's record of them (v1.4 acks carry it).
          const files = update.files ?? this.#uploads?.fileRefs(clientId);
          const quote = mine.replyTo === undefined ? undefined : this.#quoteOf(mine.replyTo);
          this.#remember([
            {
              seq: update.seq,
              from: this.#room.you.id,
              to,
              text,
              ts,
              clientId,
              ...(files?.length ? { files } : {}),
              ...(inChannel && mine.conversation !== DEFAULT_CHANNEL ? { channel: mine.conversation } : {}),
              ...(quote ? { replyTo: quote } : {}),
              ...(mine.mentions?.length ? { mentions: [...mine.mentions] } : {}),
            },
          ]);
        }
        this.#emit({ type: 'messageStatus', ...update });
      }),
      client.on('presence', (event, member) => {
        this.#updateMember(event === 'left' ? null : member, member.id);
        this.#emit({ type: 'presence', event, member });
      }),
      client.on('roster', (counts) => this.#roster(client, counts)),
      // After a reconnect: the watched rows as they are now (what changed while away came with no presence).
      client.on('watched', (members) => this.#refreshKnown(members)),
      client.on('typing', (from, to, channel) => {
        const me = this.#room?.you.id;
        const conversation = to === null ? (channel ?? ROOM) : to === me ? from : to;
        this.#emit({ type: 'typing', from, conversation });
      }),
      client.on('update', (update) => {
        this.#applyUpdates([update]);
        this.#emit({ type: 'updates', updates: [update] });
      }),
      client.on('history', (page) => {
        this.#learnNames(page.names);
        this.#learnFiles(page.messages);
        const names = Object.keys(page.names).length > 0 ? { names: page.names } : {};
        if (page.direction === 'after') {
          // The rest of what was missed while away: new messages to the interface, a page at a time.
          this.#remember(page.messages);
          if (page.messages.length > 0) this.#emit({ type: 'messages', messages: page.messages, ...names });
          // Then what happened to messages meanwhile (those on the page already show it: no harm done).
          if (page.updates.length > 0) {
            this.#applyUpdates(page.updates);
            this.#emit({ type: 'updates', updates: page.updates });
          }
          return;
        }
        this.#emit({
          type: 'history',
          conversation: page.conversation ?? ROOM,
          messages: page.messages,
          hasMore: page.hasMore,
          ...names,
        });
      }),
      client.on('error', (error) => this.#emit({ type: 'error', ...error })),
    );
  }

  /**
   * The room's counts changed. A room that turns complete again after being partial sent no
   * presence for most members meanwhile: the snapshot's list is read anew (a page of 200 is everyone
   * in a complete room), so a window that reloads finds it right.
   */
  #roster(client: RoomClient, counts: { total: number; online: number; complete: boolean }): void {
    const room = this.#room;
    if (!room) return;
    const wasPartial = room.membersPartial === true;
    room.memberCount = { total: counts.total, online: counts.online };
    room.membersPartial = !counts.complete;
    this.#emit({ type: 'roster', ...counts });
    if (!wasPartial || !counts.complete) return;
    void client.members({ limit: WIRE_LIMITS.membersPage }).then((answer) => {
      if (!answer.ok || this.#client !== client || this.#room !== room || room.membersPartial) return;
      const you = answer.value.members.find((member) => member.id === room.you.id);
      room.members = answer.value.members;
      if (you) room.you = you;
    });
  }

  /** Members as the host says they are now replace what the snapshot held of them (and only those it holds). */
  #refreshKnown(members: readonly Member[]): void {
    const room = this.#room;
    if (!room) return;
    const fresh = new Map(members.map((member) => [member.id, member]));
    room.members = room.members.map((member) => fresh.get(member.id) ?? member);
  }

  #fileOutbox(client: RoomClient, platform: FilePlatform<F>): FileOutbox<F> {
    return new FileOutbox<F>({
      platform,
      access: () => (this.#client === client ? this.fileAccess() : null),
      emit: (transfer) => {
        if (this.#client === client) this.#emit({ type: 'transfer', transfer });
      },
      send: (clientId, fileIds) => client.sendWithFiles(clientId, fileIds),
      fail: (clientId, error) => client.failWaiting(clientId, error),
      withdraw: (clientId) => {
        if (!client.withdraw(clientId)) return;
        this.#unacknowledged.delete(clientId);
        // The interface takes the message away; its transfers already say 'cancelled'.
        this.#emit({ type: 'withdrawn', clientId });
      },
      resume: (clientId) => client.retry(clientId),
    });
  }

  /** Where a message to `conversation` goes: the room's default channel, another channel, or one member. */
  #sendTarget(conversation: ConversationId): Result<{ to: string | null; channel: SendExtras }> {
    if (!isChannelId(conversation)) return ok({ to: conversation, channel: {} });
    if (conversation === DEFAULT_CHANNEL) return ok({ to: null, channel: {} });
    // An older host would put it in the default channel: never send a channel's message there.
    if (!this.#room?.features?.includes('channels')) return fail('BEACON_ERR_OLD_HOST');
    const known = this.#room.channels?.find((channel) => channel.id === conversation);
    if (!known) return fail('BEACON_ERR_NO_SUCH_CHANNEL');
    if (known.archived) return fail('BEACON_ERR_CHANNEL_ARCHIVED');
    return ok({ to: null, channel: { channel: conversation } });
  }

  async #changeChannel(change: Parameters<RoomClient['channel']>[0]): Promise<Result<Channel>> {
    const client = this.#client;
    if (!client) return fail('BEACON_ERR_NOT_JOINED');
    const answer = await client.channel(change);
    if (!answer.ok) return answer;
    // The host sends the channel with its `done`; the update that follows says it to everyone.
    const channel =
      answer.value.channel ?? this.#room?.channels?.find((known) => change.op !== 'create' && known.id === change.id);
    return channel ? ok(channel) : fail('BEACON_ERR_INTERNAL', 'The host did not say which channel it made.');
  }

  #roomView(client: RoomClient, welcome: WelcomeFrame): RoomView {
    const features = welcome.features;
    const isHost = joinedFromHostMachine(client.url);
    const creators = welcome.channelCreators ?? 'everyone';
    return {
      name: welcome.room.name,
      you: welcome.you,
      members: welcome.members,
      ...(welcome.channels ? { channels: welcome.channels } : {}),
      ...(features ? { features } : {}),
      canCreateChannels: (features?.includes('channels') ?? false) && (creators === 'everyone' || isHost),
      isHost,
      ...(welcome.memberCount ? { memberCount: { ...welcome.memberCount } } : {}),
      ...(welcome.membersPartial ? { membersPartial: true } : {}),
    };
  }

  /** The quote a reply of ours carries, made from the message it answers when it is held. */
  #quoteOf(seq: number): ReplyQuote | undefined {
    const original = this.#history.find((message) => message.seq === seq);
    if (!original) return undefined;
    const cut = original.text.slice(0, WIRE_LIMITS.quoteChars);
    return {
      seq,
      from: original.from,
      text: cut.isWellFormed() ? cut : cut.slice(0, -1),
      ...(original.files?.length ? { files: original.files.length } : {}),
      ...(original.deleted ? { deleted: true as const } : {}),
    };
  }

  #applyUpdates(updates: readonly Update[]): void {
    this.#history = applyToMessages(this.#history, updates);
    const room = this.#room;
    if (!room?.channels) return;
    for (const update of updates) {
      // The welcome's list already stands where these left it.
      if (update.kind === 'channel' && update.seq > this.#channelsAsOf) {
        room.channels = applyToChannels(room.channels, update);
      }
    }
  }

  #learnNames(names: Record<string, string> | undefined): void {
    if (names) for (const [id, name] of Object.entries(names)) this.#names[id] = name;
  }

  #updateMember(member: Member | null, id: string): void {
    if (!this.#room) return;
    const others = this.#room.members.filter((m) => m.id !== id);
    this.#room.members = member ? [...others, member] : others;
    if (member && member.id === this.#room.you.id) this.#room.you = member;
  }

  #learnFiles(messages: ChatMessage[]): void {
    for (const message of messages) for (const file of message.files ?? []) this.#fileRefs.set(file.id, file);
  }

  #remember(messages: ChatMessage[]): void {
    this.#learnFiles(messages);
    // A resume can bring again what was already kept (a page overlapping the welcome): keep one of each.
    const fresh = messages.filter((message) => !this.#kept.has(message.seq));
    if (fresh.length === 0) return;
    for (const message of fresh) this.#kept.add(message.seq);
    this.#history.push(...fresh);
    if (this.#history.length > SNAPSHOT_MESSAGES) {
      for (const dropped of this.#history.splice(0, this.#history.length - SNAPSHOT_MESSAGES)) {
        this.#kept.delete(dropped.seq);
      }
      this.#hasMore = true;
    }
  }
}

/** A request's answer as a command's: done, or the reason it was not. */
function nothing(result: Result<unknown>): Result<null> {
  return result.ok ? ok(null) : result;
}
