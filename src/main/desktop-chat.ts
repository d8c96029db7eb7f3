/**
 * The desktop app's side of the ChatApi: joining (through the shared
 * ChatFeed) and hosting (an embedded RoomServer that this user joins like
 * anyone else). Implements every command; the IPC bridge validates and forwards.
 *
 * Hosting is always encrypted (the room's key lives in its folder). Joining
 * pins the invite's fingerprint, else the one remembered with the recent room,
 * else trusts on first use; the fingerprint is remembered with the room, and
 * only trustHost (the person checked with the host) replaces it.
 */
import type {
  AppSettings,
  ChatCommands,
  ChatEvent,
  CommandInput,
  CommandOutput,
  HostInfo,
  ChatSnapshot,
  Result,
  SendReceipt,
} from '../shared/chat-api.ts';
import { parseBeaconLink, parseRoomAddress } from '../shared/address.ts';
import { ChatFeed } from '../shared/chat-feed.ts';
import { fail, ok } from '../shared/result.ts';
import { BeaconError, errorMessage } from '../shared/errors.ts';
import type { Fingerprint } from '../shared/fingerprint.ts';
import type { HostPin, RoomClientOptions } from '../shared/room-client.ts';
import type { ChatMessage } from '../shared/protocol.ts';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import type { NearbyRoom, NearbyStatus } from '../shared/discovery.ts';
import { formatHostPort } from '../host/lan-addresses.ts';
import { RoomAnnouncer } from '../host/room-announcer.ts';
import { RoomServer } from '../host/room-server.ts';
import type { RoomLimits } from '../host/options.ts';
import { roomFolder } from '../host/room-folder.ts';
import { downloadsFolder, isUsableFolder, type SettingsFile } from './settings.ts';
import { appSettingsOf, settingsChange } from './app-settings.ts';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { FileDownloads, fileSchemeHandler } from '../node/file-downloads.ts';
import { type NodeFile, nodeFilePlatform } from '../node/file-http.ts';
import { RoomBrowser } from '../node/room-browser.ts';
import { wsSocketFactory } from '../node/ws-socket.ts';
import type { OutgoingFile } from '../shared/file-outbox.ts';

export interface DesktopChatOptions {
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
  /**
   * Rooms nearby (multicast DNS): the interface to announce and browse on and the mDNS port, or
   * false for neither. Default: the interface `hostBind` names when it is one IPv4 address (tests:
   * 127.0.0.1, so nothing reaches the real network), else every interface.
   */
  discovery?: { interface?: string; mdnsPort?: number } | false;
  clientOptions?: Partial<RoomClientOptions>;
  /**
   * The system's Downloads folder (main passes app.getPath('downloads'); without it, ~/Downloads):
   * where downloads go unless Settings chose a folder that is still there, asked at each download.
   */
  downloadsDir?: () => string;
  /** Shows a saved download in the system's file manager (Electron's shell.showItemInFolder). */
  showItemInFolder?: (path: string) => void;
  /** Waits between tries of a broken upload or download (tests shorten them). */
  fileRetryDelays?: readonly number[];
  /** Carries out what the shell owns of the settings (theme, login item); called after each saved change. */
  applySettings?: (settings: AppSettings) => void;
  /** The system's folder picker (Electron's dialog): the folder chosen, or null when cancelled. */
  pickFolder?: () => Promise<string | null>;
}

/** The app's TLS key and certificate, beside the rooms' folders (whose names always end in a hash). */
const HOST_IDENTITY_FOLDER = 'host-identity';

export class DesktopChat implements ChatCommands {
  readonly #options: DesktopChatOptions;
  readonly #feed: ChatFeed<NodeFile>;
  readonly #downloads: FileDownloads;
  #server: RoomServer | null = null;
  #joined: JoinAttempt | null = null;
  /** The last join asked for, even if it failed: what trustHost joins again. */
  #lastAttempt: JoinAttempt | null = null;
  #announcer: Promise<RoomAnnouncer | null> | null = null;
  #browser: RoomBrowser | null = null;

  constructor(options: DesktopChatOptions) {
    this.#options = options;
    const retryDelays = options.fileRetryDelays ? { retryDelays: options.fileRetryDelays } : {};
    this.#downloads = new FileDownloads({
      folder: () =>
        downloadsFolder(
          options.settings.value.downloadsFolder,
          options.downloadsDir?.() ?? join(homedir(), 'Downloads'),
        ),
      emit: (transfer) => options.emit({ type: 'transfer', transfer }),
      showItemInFolder: options.showItemInFolder ?? (() => {}),
      ...retryDelays,
    });
    this.#feed = new ChatFeed<NodeFile>({
      socketFactory: wsSocketFactory,
      clientOptions: options.clientOptions,
      files: nodeFilePlatform(retryDelays),
      startInfo: () => ({
        recentRooms: options.settings.recentRooms(),
        displayName: options.settings.value.displayName,
        lastHosted: options.settings.value.lastHosted ?? null,
      }),
      emit: (event) => {
        if (event.type === 'messages') for (const message of event.messages) this.#noticeMessage(message);
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
        // One key for every room this app hosts: members pin the machine, not the room.
        identityDir: join(this.#options.roomsDir, HOST_IDENTITY_FOLDER),
        webRoot: this.#options.webRoot,
        limits: this.#options.hostLimits,
      });
    } catch (error) {
      if (error instanceof BeaconError) return fail(error.code, error.message);
      return fail('BEACON_ERR_INTERNAL', String(error));
    }
    this.#server = server;
    // Kept after Stop hosting: hosting the same room again offers the same name, port and code.
    this.#options.settings.update({
      lastHosted: { roomName: server.roomName, port: server.port, code: input.code },
    });
    if (!server.hasFts5) {
      this.#options.emit({ type: 'error', code: 'BEACON_ERR_NO_FTS5', message: errorMessage('BEACON_ERR_NO_FTS5') });
    }
    const address = formatHostPort(this.#options.hostBind ?? '127.0.0.1', server.port);
    // Our own room: its fingerprint is known first-hand, as good as an invite.
    const pin: HostPin | undefined = server.fingerprint
      ? { fingerprint: server.fingerprint, trust: 'invite' }
      : undefined;
    const joined = await this.#join({ address, name: input.name, code: input.code }, false, {
      token: server.ownerToken(input.name),
      pin,
    });
    if (!joined.ok) {
      await this.#stopHosting();
      return fail(joined.error.code, joined.error.message);
    }
    const token = this.#feed.client?.token;
    if (token) server.keepOwnerToken(input.name, token);
    const info = this.#hostInfo()!;
    this.#announce(server, input.name);
    this.#options.emit({ type: 'hostInfo', info });
    return ok(info);
  }

  join(input: CommandInput<'join'>): Promise<Result<null>> {
    return this.leave().then(() => this.#join(asInvite(input), true));
  }

  /**
   * Joins as the person this app was in that room before (the token from recent
   * rooms, or for one's own hosted room the token kept in its history), so one's
   * own messages and direct conversations come back. It starts from the latest
   * page: this window has no messages yet.
   *
   * The host must show the invite's fingerprint (when `input.address` is an
   * invite), else `known.pin`, else the one remembered for the address; with
   * none, the first host to answer is trusted and remembered.
   */
  async #join(
    input: { address: string; name: string; code: string },
    remember: boolean,
    known: { token?: string; pin?: HostPin } = {},
  ): Promise<Result<null>> {
    const settings = this.#options.settings;
    // Remembered without the invite's '#fp=…': the fingerprint is kept in its own field.
    const address = input.address.split('#', 1)[0]!.trim();
    const token = 'token' in known ? known.token : settings.findRoom(address, input.name)?.token;
    const remembered = settings.pinFor(address);
    const pin = known.pin ?? (remembered ? { fingerprint: remembered, trust: 'remembered' as const } : undefined);
    // A machine that was met encrypted is never joined in clear, however its address is written
    // (as browsers do for HSTS): a ws:// link or an old recent room cannot undo the pin.
    const joinAddress = pin ? encryptedAddress(input.address) : input.address;
    settings.update({ displayName: input.name });
    this.#joined = this.#lastAttempt = { address, name: input.name, code: input.code, remember };
    const result = await this.#feed.join({
      ...input,
      address: joinAddress,
      resume: token ? { token, lastSeq: 0 } : undefined,
      ...(pin ? { pin } : {}),
    });
    if (!result.ok) this.#joined = null;
    return result;
  }

  async leave(): Promise<Result<null>> {
    this.#saveRecent();
    this.#downloads.stopAll();
    this.#feed.leave();
    this.#joined = null;
    await this.#stopHosting();
    return ok(null);
  }

  async #stopHosting(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    // The goodbye first, so apps nearby drop the room at once.
    const announcer = this.#announcer;
    this.#announcer = null;
    await (await announcer)?.stop();
    await server.stop();
    this.#options.emit({ type: 'hostInfo', info: null });
  }

  async send(input: CommandInput<'send'>): Promise<Result<SendReceipt>> {
    const { conversation, text, ...options } = input;
    return this.#feed.send(conversation, text, options);
  }

  async retry(input: CommandInput<'retry'>): Promise<Result<null>> {
    return this.#feed.retry(input.clientId);
  }

  async retryNow(): Promise<Result<null>> {
    return this.#feed.retryNow();
  }

  async retryWithCode(input: CommandInput<'retryWithCode'>): Promise<Result<null>> {
    // Remembered with the room once it lets us in: the old code is stale.
    if (this.#joined) this.#joined = { ...this.#joined, code: input.code };
    return this.#feed.retryWithCode(input.code);
  }

  /**
   * After BEACON_ERR_HOST_CHANGED, once the person checked with the host: the room's address
   * expects `fingerprint` from now on (replacing the remembered one), and is joined again with it.
   */
  async trustHost(input: CommandInput<'trustHost'>): Promise<Result<null>> {
    const attempt = this.#lastAttempt;
    // Only a room joined by address has a fingerprint to replace; one's own hosted room never changes it.
    if (!attempt?.remember) return fail('BEACON_ERR_INVALID_INPUT', 'There is no room to trust again.');
    const fingerprint = input.fingerprint as Fingerprint;
    await this.leave();
    this.#options.settings.trustHost(attempt.address, fingerprint);
    const { address, name, code } = attempt;
    return this.#join({ address, name, code }, true, { pin: { fingerprint, trust: 'remembered' } });
  }

  async typing(input: CommandInput<'typing'>): Promise<Result<null>> {
    return this.#feed.typing(input.conversation);
  }

  async setStatus(input: CommandInput<'setStatus'>): Promise<Result<null>> {
    return this.#feed.setStatus(input.status);
  }

  async loadOlder(input: CommandInput<'loadOlder'>): Promise<Result<null>> {
    return this.#feed.loadOlder(input.conversation, input.before);
  }

  async reportUnread(input: CommandInput<'reportUnread'>): Promise<Result<null>> {
    this.#options.onUnread?.(input.total);
    return ok(null);
  }

  async getState(): Promise<Result<ChatSnapshot>> {
    const settings = this.#options.settings;
    const browser = this.#browse();
    const snapshot = this.#feed.snapshot();
    return ok({
      ...snapshot,
      transfers: [...(snapshot.transfers ?? []), ...this.#downloads.transfers],
      hostInfo: this.#hostInfo(),
      displayName: settings.value.displayName,
      recentRooms: settings.recentRooms(),
      lastHosted: settings.value.lastHosted ?? null,
      preferences: { notifyDirect: settings.value.notifyDirect, notifyMentions: settings.value.notifyMentions },
      nearby: { rooms: browser?.rooms ?? [], status: browser?.status ?? { state: 'off' } },
    });
  }

  /** Files picked or dropped (by path) or pasted (as bytes), each read from here on as a stream. */
  async sendFiles(input: CommandInput<'sendFiles'>): Promise<Result<SendReceipt>> {
    const files: OutgoingFile<NodeFile>[] = [];
    for (const file of input.files) {
      let source: NodeFile;
      let size: number;
      if ('path' in file.source) {
        // The size on disk, not the one the page said; and only a regular file (not a folder or a device).
        const info = await stat(file.source.path).catch(() => null);
        if (!info?.isFile()) return fail('BEACON_ERR_FILE_READ');
        source = { path: file.source.path };
        size = info.size;
      } else {
        source = { bytes: file.source.bytes };
        size = file.source.bytes.byteLength;
      }
      const { preview } = file;
      files.push({
        file: source,
        name: file.name,
        size,
        type: file.type,
        ...(file.image ? { image: file.image } : {}),
        ...(preview
          ? {
              preview: {
                file: { bytes: preview.bytes },
                size: preview.bytes.byteLength,
                type: preview.type,
                width: preview.width,
                height: preview.height,
              },
            }
          : {}),
      });
    }
    return this.#feed.sendFiles(input.conversation, input.text, files);
  }

  async cancelTransfer(input: CommandInput<'cancelTransfer'>): Promise<Result<null>> {
    if (await this.#downloads.cancel(input.id)) return ok(null);
    return this.#feed.cancelTransfer(input.id);
  }

  async retryTransfer(input: CommandInput<'retryTransfer'>): Promise<Result<null>> {
    if (this.#downloads.retry(input.id)) return ok(null);
    return this.#feed.retryTransfer(input.id);
  }

  /**
   * Fetches a file into the downloads folder; its progress arrives as transfer events. Only a file a
   * message has shown: its size and hash there are what the bytes must match, whatever the host's
   * answer says of them.
   */
  async download(input: CommandInput<'download'>): Promise<Result<null>> {
    const access = this.#feed.fileAccess();
    if (!access) return fail(this.#feed.client ? 'BEACON_ERR_NO_FILES' : 'BEACON_ERR_NOT_JOINED');
    const file = this.#feed.fileRef(input.fileId);
    if (!file) return fail('BEACON_ERR_FILE_NOT_FOUND');
    this.#downloads.start(file, input.conversation, access);
    return ok(null);
  }

  /** Only a file this app saved itself is ever shown. */
  async showInFolder(input: CommandInput<'showInFolder'>): Promise<Result<null>> {
    return this.#downloads.showInFolder(input.id)
      ? ok(null)
      : fail('BEACON_ERR_INVALID_INPUT', 'That download is not in the downloads folder.');
  }

  // ── v1.5 conversations: the feed asks the host; each answers once the host has done it
  async edit(input: CommandInput<'edit'>): Promise<Result<null>> {
    return this.#feed.edit(input);
  }
  async deleteMessage(input: CommandInput<'deleteMessage'>): Promise<Result<null>> {
    return this.#feed.deleteMessage(input);
  }
  async react(input: CommandInput<'react'>): Promise<Result<null>> {
    return this.#feed.react(input);
  }
  async createChannel(input: CommandInput<'createChannel'>): Promise<Result<CommandOutput<'createChannel'>>> {
    return this.#feed.createChannel(input);
  }
  async updateChannel(input: CommandInput<'updateChannel'>): Promise<Result<CommandOutput<'updateChannel'>>> {
    return this.#feed.updateChannel(input);
  }
  async archiveChannel(input: CommandInput<'archiveChannel'>): Promise<Result<CommandOutput<'archiveChannel'>>> {
    return this.#feed.archiveChannel(input);
  }
  async search(input: CommandInput<'search'>): Promise<Result<CommandOutput<'search'>>> {
    return this.#feed.search(input);
  }
  async loadAround(input: CommandInput<'loadAround'>): Promise<Result<null>> {
    return this.#feed.loadAround(input.conversation, input.seq);
  }
  // ── v1.6 large rooms: pages of the member list, and the rows whose presence should arrive
  async members(input: CommandInput<'members'>): Promise<Result<CommandOutput<'members'>>> {
    return this.#feed.members(input);
  }
  async watchMembers(input: CommandInput<'watchMembers'>): Promise<Result<CommandOutput<'watchMembers'>>> {
    return this.#feed.watchMembers(input);
  }
  // ── the settings screen (app-settings.ts): the settings file is the one source of truth.
  async getSettings(): Promise<Result<AppSettings>> {
    return ok(appSettingsOf(this.#options.settings.value));
  }
  async setSettings(input: CommandInput<'setSettings'>): Promise<Result<AppSettings>> {
    const settings = this.#options.settings;
    const change = settingsChange(settings.value, input);
    if (!change.ok) return change;
    settings.update(change.value);
    const saved = appSettingsOf(settings.value);
    this.#options.applySettings?.(saved);
    return ok(saved);
  }
  /** The folder picker; a folder it gives is checked like one read from the file (absolute, there). */
  async chooseDownloadsFolder(): Promise<Result<AppSettings>> {
    const settings = this.#options.settings;
    if (!this.#options.pickFolder) return fail('BEACON_ERR_INVALID_INPUT', 'This app cannot pick a folder.');
    const folder = await this.#options.pickFolder();
    if (folder !== null) {
      if (!isUsableFolder(folder)) return fail('BEACON_ERR_INVALID_INPUT', 'That folder cannot be used for downloads.');
      settings.update({ downloadsFolder: folder });
    }
    return ok(appSettingsOf(settings.value));
  }

  /** Serves `beacon-file:` requests (pictures of the current room) for Electron's protocol.handle. */
  fileRequestHandler(): (request: Request) => Promise<Response> {
    return fileSchemeHandler(() => this.#feed.fileAccess());
  }

  async setPreferences(input: CommandInput<'setPreferences'>): Promise<Result<null>> {
    this.#options.settings.update(input);
    return ok(null);
  }

  /** Quitting: remember where we were, tell the room we are going, stop hosting cleanly. */
  async shutdown(): Promise<void> {
    await this.leave();
    await this.#browser?.stop();
    this.#browser = null;
  }

  /** After sleep, a lock screen or a network change: try now instead of waiting out the backoff. */
  wake(): void {
    this.#feed.retryNow();
  }

  #discovery(): { interface?: string; mdnsPort?: number } | null {
    const { discovery, hostBind } = this.#options;
    if (discovery === false) return null;
    if (discovery) return discovery;
    return hostBind && isIPv4(hostBind) && hostBind !== '0.0.0.0' ? { interface: hostBind } : {};
  }

  /**
   * Announces the hosted room (in the background: probing for a free name takes about a second,
   * and hosting does not wait for it). The host's display name goes with it.
   */
  #announce(server: RoomServer, hostName: string): void {
    const discovery = this.#discovery();
    if (!discovery) return;
    const bind = this.#options.hostBind;
    const announcement = {
      roomName: server.roomName,
      hostName,
      port: server.port,
      codeRequired: server.code !== null,
      fingerprint: server.fingerprint,
    };
    const starting = RoomAnnouncer.start(announcement, {
      ...(discovery.interface ? { interface: discovery.interface } : {}),
      ...(discovery.mdnsPort ? { mdnsPort: discovery.mdnsPort } : {}),
      ...(bind && bind !== '0.0.0.0' && bind !== '::' ? { addresses: [bind] } : {}),
    }).catch(() => null);
    this.#announcer = starting;
  }

  /**
   * Browses from the first snapshot on, for as long as the app runs: the start screen then lists
   * rooms at once when the person leaves a room (no wait for answers), and one small query every
   * few seconds costs nothing on a LAN. The renderer shows the list on the start screen only.
   */
  #browse(): RoomBrowser | null {
    if (this.#browser) return this.#browser;
    const discovery = this.#discovery();
    if (!discovery) return null;
    const browser = (this.#browser = new RoomBrowser(discovery));
    browser.on('change', (rooms: NearbyRoom[], status: NearbyStatus) =>
      this.#options.emit({ type: 'nearby', rooms, status }),
    );
    browser.start();
    return browser;
  }

  #hostInfo(): HostInfo | null {
    return this.#server?.info() ?? null;
  }

  #noticeMessage(message: ChatMessage): void {
    const me = this.#feed.client?.me;
    if (me) this.#options.onMessage?.(message, me);
  }

  #saveRecent(roomName?: string): void {
    const joined = this.#joined;
    const client = this.#feed.client;
    if (!joined?.remember || !client?.token) return;
    const settings = this.#options.settings;
    const previous = settings.findRoom(joined.address, joined.name);
    // The fingerprint this session's connections were held to (invite, remembered, or first use).
    const fingerprint = client.pin?.fingerprint ?? previous?.fingerprint;
    settings.rememberRoom({
      address: joined.address,
      roomName: roomName ?? previous?.roomName ?? joined.address,
      code: joined.code,
      name: joined.name,
      lastJoined: Date.now(),
      token: client.token,
      ...(fingerprint ? { fingerprint } : {}),
    });
  }
}

interface JoinAttempt {
  /** Without an invite's fingerprint part. */
  address: string;
  code: string;
  name: string;
  /** Kept in recent rooms (false for one's own hosted room). */
  remember: boolean;
}

/**
 * The address as a wss:// URL when it was written ws:// or http:// (the port it meant kept: a
 * written-out ws:// address without one means Beacon's port, not 443); others as they are.
 */
function encryptedAddress(address: string): string {
  const parsed = parseRoomAddress(address);
  return parsed.ok && parsed.url.startsWith('ws://') ? `wss://${parsed.url.slice('ws://'.length)}` : address;
}

/**
 * A beacon: link pasted into the join form, as the https invite it stands for (and its code when
 * the form has none): the recent room is then remembered by an address that can be joined again.
 */
function asInvite<T extends { address: string; code: string }>(input: T): T {
  if (!/^beacon:/i.test(input.address.trim())) return input;
  const link = parseBeaconLink(input.address.trim());
  if (!link.ok) return input;
  return { ...input, address: link.address, code: input.code || (link.code ?? '') };
}
