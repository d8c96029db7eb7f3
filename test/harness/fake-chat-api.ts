/**
 * The one scriptable ChatApi for tests: every command of the contract (made
 * from CommandSchemas' keys), each checking its input against the contract's
 * schema as main's IPC bridge does, recording the call and answering with a
 * result the test queued or a default. Events are whatever the test emits,
 * plus those the real implementations emit as part of a command: `send`
 * queues the message as an `outgoing` event before it replies.
 */
import * as v from 'valibot';
import {
  type AppSettings,
  type Capabilities,
  type ChatApi,
  type ChatEvent,
  type ChatSnapshot,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  CommandSchemas,
  type OutgoingMessage,
  type Result,
  type SendFilesInput,
  type SendReceipt,
  type Transfer,
} from '../../src/shared/chat-api.ts';
import type { Update } from '../../src/shared/protocol.ts';
import { pageOfMembers } from '../../src/shared/member-order.ts';
import { commandTable } from './commands.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface RecordedCall {
  name: CommandName;
  input: unknown;
}

/** What each command answers when nothing was queued for it; a new command must be given one here. */
export type Answers = { [K in CommandName]: (input: CommandInput<K>) => CommandOutput<K> };

export interface FakeChatApi extends ChatApi {
  /** Every command called, in order, with its input as the interface passed it. */
  readonly calls: RecordedCall[];
  /** What getState answers (unless a test queued something else). */
  snapshot: ChatSnapshot;
  emit(event: ChatEvent): void;
  /** The next call of `name` answers `result`; queued results are used once each, in order. */
  respondOnce<K extends CommandName>(name: K, result: Result<CommandOutput<K>>): void;
  /** The inputs `name` was called with, in order. */
  callsTo(name: CommandName): unknown[];
  /** The next sendFiles answers `result` (as respondOnce does for the other commands). */
  respondOnceToSendFiles(result: Result<SendReceipt>): void;
}

export interface FakeOptions {
  capabilities?: Partial<Capabilities>;
  snapshot?: Partial<ChatSnapshot>;
  /** Answers that replace the defaults for the life of the fake. */
  answers?: Partial<Answers>;
}

/** A chat with nothing in it yet: the starting point tests override. */
export const emptySnapshot: ChatSnapshot = {
  connection: { kind: 'idle' },
  room: null,
  history: [],
  hasMore: false,
  outgoing: [],
  hostInfo: null,
  displayName: '',
  recentRooms: [],
  preferences: { notifyDirect: true, notifyMentions: true },
};

type Queue = { [K in CommandName]?: Array<Result<CommandOutput<K>>> };

export function createFakeChatApi(options: FakeOptions = {}): FakeChatApi {
  const fakeSettings: AppSettings = {
    displayName: '',
    notifyDirect: true,
    notifyMentions: true,
    theme: 'system',
    startAtLogin: false,
    hostAtLogin: false,
    downloadsFolder: null,
    closeWhileHosting: 'ask',
  };
  const listeners = new Set<(event: ChatEvent) => void>();
  const calls: RecordedCall[] = [];
  const queue: Queue = {};
  let clientIds = 0;
  const sendFilesQueue: Result<SendReceipt>[] = [];
  const emit = (event: ChatEvent): void => listeners.forEach((listener) => listener(event));
  /** Updates made by this fake's own member, numbered after anything a test is likely to use. */
  let updateSeq = 1_000_000;
  const emitUpdate = (change: DistributiveOmit<Update, 'seq' | 'ts' | 'by'>): void => {
    const by = fake.snapshot.room?.you.id ?? 'me';
    const update = { ...change, seq: ++updateSeq, ts: Date.now(), by } as Update;
    emit({ type: 'updates', updates: [update] });
  };

  const defaults: Answers = {
    host: (input) => ({
      roomName: input.roomName,
      port: input.port,
      code: input.code || null,
      addresses: [`ws://192.168.1.20:${input.port}`],
      webAddresses: [`http://192.168.1.20:${input.port}`],
      fingerprint: null,
      invite: null,
    }),
    join: () => null,
    leave: () => null,
    // Like the real ones: the pending message arrives as an `outgoing` event, the reply is a receipt.
    send: (input) => {
      const message: OutgoingMessage = {
        clientId: `client-${++clientIds}`,
        conversation: input.conversation,
        text: input.text,
        ts: Date.now(),
        status: 'pending',
      };
      emit({ type: 'outgoing', message });
      return { clientId: message.clientId };
    },
    retry: () => null,
    retryNow: () => null,
    retryWithCode: () => null,
    trustHost: () => null,
    typing: () => null,
    setStatus: () => null,
    loadOlder: () => null,
    reportUnread: () => null,
    getState: () => fake.snapshot,
    setPreferences: () => null,
    sendFiles: () => ({ clientId: `client-${++clientIds}` }),
    cancelTransfer: () => null,
    retryTransfer: () => null,
    download: () => null,
    showInFolder: () => null,
    // Like a host that took them: the change comes back as an 'updates' event before the reply.
    edit: (input) => {
      const { seq: target, text, mentions } = input;
      emitUpdate({ kind: 'edit', target, text, ...(mentions ? { mentions } : {}) });
      return null;
    },
    deleteMessage: (input) => {
      emitUpdate({ kind: 'delete', target: input.seq });
      return null;
    },
    react: (input) => {
      emitUpdate({ kind: 'react', target: input.seq, emoji: input.emoji, on: input.on });
      return null;
    },
    createChannel: (input) => ({
      id: `c_${String(++clientIds).padStart(16, '0')}`,
      name: input.name,
      topic: input.topic,
      createdBy: 'm_me',
      createdAt: Date.now(),
      archived: false,
    }),
    updateChannel: (input) => ({
      id: input.id,
      name: input.name ?? 'channel',
      topic: input.topic ?? '',
      createdBy: 'm_me',
      createdAt: 0,
      archived: false,
    }),
    archiveChannel: (input) => ({
      id: input.id,
      name: 'channel',
      topic: '',
      createdBy: 'm_me',
      createdAt: 0,
      archived: input.archived,
    }),
    search: () => ({ hits: [], hasMore: false, names: {} }),
    loadAround: () => null,
    // Like a host that sent everyone: pages of the snapshot's members, in the host's order.
    members: (input) => pageOfMembers(fake.snapshot.room?.members ?? [], input),
    watchMembers: (input) => {
      const present = (fake.snapshot.room?.members ?? []).filter((member) => input.ids.includes(member.id));
      return { members: present, offset: 0, total: present.length };
    },
    getSettings: () => fakeSettings,
    setSettings: (input) => Object.assign(fakeSettings, input),
    chooseDownloadsFolder: () => fakeSettings,
  };
  const answers: Answers = { ...defaults, ...options.answers };

  function enqueue<K extends CommandName>(name: K, result: Result<CommandOutput<K>>): void {
    const forK: { [P in K]?: Array<Result<CommandOutput<P>>> } = queue;
    (forK[name] ??= []).push(result);
  }

  function answer<K extends CommandName>(name: K, raw: unknown): Result<CommandOutput<K>> {
    calls.push({ name, input: raw });
    // As main's bridge does, before any command sees it.
    const parsed = v.safeParse(CommandSchemas[name], raw);
    if (!parsed.success) {
      return { ok: false, error: { code: 'BEACON_ERR_INVALID_INPUT', message: parsed.issues[0].message } };
    }
    const queued = queue[name]?.shift();
    if (queued) return queued;
    const respond: (input: CommandInput<K>) => CommandOutput<K> = answers[name];
    return { ok: true, value: respond(parsed.output) };
  }

  const fake: FakeChatApi = {
    ...commandTable((name) => async (input) => answer(name, input)),
    capabilities: { host: true, notifications: false, desktopSettings: true, ...options.capabilities },
    // A path on the harness's own origin that tests answer (page.route) when they want a picture to load.
    fileUrl: (file, variant) => `/fake-files/${file.id}/${variant}`,
    // The page's files cannot pass main's schema (the preload turns them into paths or bytes): record them.
    // Like the real ones: the pending message with its uploads arrives as events before the reply.
    sendFiles: async (input) => {
      calls.push({ name: 'sendFiles', input });
      const queued = sendFilesQueue.shift();
      if (queued) return queued;
      const clientId = `client-${++clientIds}`;
      const uploads = uploadsOf(input, clientId);
      emit({
        type: 'outgoing',
        message: {
          clientId,
          conversation: input.conversation,
          text: input.text,
          ts: Date.now(),
          status: 'pending',
          transfers: uploads.map((t) => t.id),
        },
      });
      for (const transfer of uploads) emit({ type: 'transfer', transfer });
      return { ok: true, value: { clientId } };
    },
    respondOnceToSendFiles: (result) => sendFilesQueue.push(result),
    calls,
    snapshot: { ...emptySnapshot, ...options.snapshot },
    emit,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    respondOnce: enqueue,
    callsTo(name) {
      return calls.filter((call) => call.name === name).map((call) => call.input);
    },
  };
  return fake;
}

/** One upload per file, just starting, with ids tests can name: `${clientId}-up0`, `-up1`, … */
function uploadsOf(input: SendFilesInput, clientId: string): Transfer[] {
  return input.files.map((f, i) => ({
    id: `${clientId}-up${i}`,
    direction: 'upload',
    conversation: input.conversation,
    clientId,
    name: f.file.name,
    size: f.file.size,
    doneBytes: 0,
    bytesPerSecond: null,
    secondsLeft: null,
    state: 'preparing',
  }));
}
