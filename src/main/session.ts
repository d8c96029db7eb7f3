/**
 * The desktop app's chat session: joining (through the shared ChatSession)
 * and hosting (an embedded RoomServer that this user joins like anyone else).
 * Implements every ChatApi command; the IPC bridge validates and forwards.
 */
import type {
  ChatCommands,
  ChatEvent,
  CommandInput,
  HostInfo,
  OutgoingMessage,
  Result,
  SessionSnapshot,
} from '../shared/chat-api.ts';
import { ChatSession, fail, ok } from '../shared/chat-session.ts';
import { BeaconError, errorMessage } from '../shared/errors.ts';
import type { RoomClientOptions } from '../shared/room-client.ts';
import type { ChatMessage } from '../shared/protocol.ts';
import { formatHostPort } from '../host/lan-addresses.ts';
import { RoomServer } from '../host/room-server.ts';
import type { RoomLimits } from '../host/options.ts';
import { roomFolder } from '../host/room-folder.ts';
import type { SettingsFile } from './settings.ts';
import { wsSocketFactory } from '../node/ws-socket.ts';

export interface DesktopSessionOptions {
  settings: SettingsFile;
  /** Where hosted rooms keep their history: one folder per room name. */
  roomsDir: string;
  emit: (event: ChatEvent) => void;
  /** Called for every message that arrives, so the shell can notify. */
  onMessage?: (message: ChatMessage, me: { id: string; name: string }) => void;
  /** Called with the interface's unread total (window title, dock badge). */
  onUnread?: (total: number) => void;
  /** Web client to serve while hosting (the built renderer). */
  webRoot?: string;
  /** Hosting binds every interface by default; tests pass 127.0.0.1. */
  hostBind?: string;
  hostLimits?: Partial<RoomLimits>;
  clientOptions?: Partial<RoomClientOptions>;
}

export class DesktopSession implements ChatCommands {
  readonly #options: DesktopSessionOptions;
  readonly #chat: ChatSession;
  #server: RoomServer | null = null;
  #joined: { address: string; code: string; name: string; remember: boolean } | null = null;

  constructor(options: DesktopSessionOptions) {
    this.#options = options;
    this.#chat = new ChatSession({
      socketFactory: wsSocketFactory,
      clientOptions: options.clientOptions,
      emit: (event) => {
        if (event.type === 'message') this.#noticeMessage(event.message);
        if (event.type === 'welcome') this.#saveRecent(event.room.name);
        options.emit(event);
      },
    });
  }

  get hosting(): RoomServer | null {
    return this.#server;
  }

  async host(input: CommandInput<'host'>): Promise<Result<HostInfo>> {
    await this.leave();
    let server: RoomServer;
    try {
      server = await RoomServer.start({
        port: input.port,
        bind: this.#options.hostBind,
        roomName: input.roomName,
        code: input.code.length > 0 ? input.code : null,
        dataDir: roomFolder(this.#options.roomsDir, input.roomName),
        webRoot: this.#options.webRoot,
        limits: this.#options.hostLimits,
      });
    } catch (error) {
      if (error instanceof BeaconError) return fail(error.code, error.message);
      return fail('BEACON_ERR_INTERNAL', String(error));
    }
    this.#server = server;
    if (!server.hasFts5) {
      this.#options.emit({ type: 'error', code: 'BEACON_ERR_NO_FTS5', message: errorMessage('BEACON_ERR_NO_FTS5') });
    }
    const address = formatHostPort(this.#options.hostBind ?? '127.0.0.1', server.port);
    const joined = await this.#join(
      { address, name: input.name, code: input.code },
      false,
      server.ownerToken(input.name),
    );
    if (!joined.ok) {
      await this.#stopHosting();
      return fail(joined.error.code, joined.error.message);
    }
    const token = this.#chat.client?.token;
    if (token) server.keepOwnerToken(input.name, token);
    const info = this.#hostInfo()!;
    this.#options.emit({ type: 'hostInfo', info });
    return ok(info);
  }

  join(input: CommandInput<'join'>): Promise<Result<null>> {
    return this.leave().then(() => this.#join(input, true));
  }

  /**
   * Joins as the person this app was in that room before (the token from recent
   * rooms, or for one's own hosted room the token kept in its history), so one's
   * own messages and direct conversations come back. It starts from the latest
   * page: this window has no messages yet.
   */
  async #join(
    input: { address: string; name: string; code: string },
    remember: boolean,
    token = this.#options.settings.findRoom(input.address, input.name)?.token,
  ): Promise<Result<null>> {
    this.#options.settings.update({ displayName: input.name });
    this.#joined = { ...input, remember };
    const result = await this.#chat.join({ ...input, resume: token ? { token, lastSeq: 0 } : undefined });
    if (!result.ok) this.#joined = null;
    return result;
  }

  async leave(): Promise<Result<null>> {
    this.#saveRecent();
    this.#chat.leave();
    this.#joined = null;
    await this.#stopHosting();
    return ok(null);
  }

  async #stopHosting(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    await server.stop();
    this.#options.emit({ type: 'hostInfo', info: null });
  }

  async send(input: CommandInput<'send'>): Promise<Result<OutgoingMessage>> {
    return this.#chat.send(input.conversation, input.text);
  }

  async retry(input: CommandInput<'retry'>): Promise<Result<null>> {
    return this.#chat.retry(input.clientId);
  }

  async retryNow(): Promise<Result<null>> {
    return this.#chat.retryNow();
  }

  async typing(input: CommandInput<'typing'>): Promise<Result<null>> {
    return this.#chat.typing(input.conversation);
  }

  async setStatus(input: CommandInput<'setStatus'>): Promise<Result<null>> {
    return this.#chat.setStatus(input.status);
  }

  async loadOlder(input: CommandInput<'loadOlder'>): Promise<Result<null>> {
    return this.#chat.loadOlder(input.conversation, input.before);
  }

  async markRead(input: CommandInput<'markRead'>): Promise<Result<null>> {
    this.#options.onUnread?.(input.unreadTotal);
    return ok(null);
  }

  async getState(): Promise<Result<SessionSnapshot>> {
    const settings = this.#options.settings;
    return ok({
      ...this.#chat.snapshot(),
      hostInfo: this.#hostInfo(),
      displayName: settings.value.displayName,
      recentRooms: settings.recentRooms(),
      preferences: { notifyDirect: settings.value.notifyDirect, notifyMentions: settings.value.notifyMentions },
    });
  }

  async setPreferences(input: CommandInput<'setPreferences'>): Promise<Result<null>> {
    this.#options.settings.update(input);
    return ok(null);
  }

  /** Quitting: remember where we were, tell the room we are going, stop hosting cleanly. */
  async shutdown(): Promise<void> {
    await this.leave();
  }

  /** After sleep, a lock screen or a network change: try now instead of waiting out the backoff. */
  wake(): void {
    this.#chat.retryNow();
  }

  #hostInfo(): HostInfo | null {
    return this.#server?.info() ?? null;
  }

  #noticeMessage(message: ChatMessage): void {
    const me = this.#chat.client?.me;
    if (me) this.#options.onMessage?.(message, me);
  }

  #saveRecent(roomName?: string): void {
    const joined = this.#joined;
    const client = this.#chat.client;
    if (!joined?.remember || !client?.token) return;
    const settings = this.#options.settings;
    const previous = settings.findRoom(joined.address, joined.name);
    settings.rememberRoom({
      address: joined.address,
      roomName: roomName ?? previous?.roomName ?? joined.address,
      code: joined.code,
      name: joined.name,
      lastJoined: Date.now(),
      token: client.token,
    });
  }
}
