import { SvelteMap } from 'svelte/reactivity';
import type { ConversationId, SendFilesInput } from '../../../shared/chat-api.ts';
import { WIRE_LIMITS } from '../../../shared/protocol.ts';
import { formatBytes } from '../lib/file-format.ts';
import { describeImage, type ImageFacts } from '../lib/image-preview.ts';

/** One file waiting in the tray above the composer. */
export interface Attachment {
  key: number;
  file: File;
  /** True until the image has been measured and its preview made (or found not to be an image). */
  reading: boolean;
  facts: ImageFacts | null;
  /** An object URL of the preview, for the tray's thumbnail and, once sent, the message's. */
  thumbnail: string | null;
  /** Why this file cannot be sent: it stays in the tray, marked, until removed. */
  refused: string | null;
}

/**
 * The files picked, dropped or pasted for each conversation, not sent yet:
 * a draft per conversation, as the composer's text would be in Slack.
 * Images are measured and previewed as they arrive, so Send does not wait
 * for it in the common case.
 */
export class AttachmentsState {
  readonly #byConversation = new SvelteMap<ConversationId, Attachment[]>();
  readonly #maxFileBytes: () => number | null;
  #key = 0;

  constructor(maxFileBytes: () => number | null) {
    this.#maxFileBytes = maxFileBytes;
  }

  in(conversation: ConversationId): readonly Attachment[] {
    return this.#byConversation.get(conversation) ?? [];
  }

  /** Adds files to a conversation's tray; each too large or past the tenth is marked refused. */
  add(conversation: ConversationId, files: Iterable<File>): void {
    const max = this.#maxFileBytes();
    const list = [...this.in(conversation)];
    for (const file of files) {
      const key = ++this.#key;
      const room = list.filter((a) => a.refused === null).length < WIRE_LIMITS.filesPerMessage;
      const refused =
        max !== null && file.size > max
          ? `Too large: ${formatBytes(file.size)}, and this room takes files up to ${formatBytes(max)}.`
          : !room
            ? `A message carries at most ${WIRE_LIMITS.filesPerMessage} files: send this one in the next.`
            : null;
      list.push({ key, file, reading: refused === null, facts: null, thumbnail: null, refused });
      if (refused === null) void this.#read(conversation, key, file);
    }
    this.#byConversation.set(conversation, list);
  }

  /** Shows a folder dropped in the tray with why it is not sent: a browser cannot read a folder as a file. */
  addFolders(conversation: ConversationId, names: readonly string[]): void {
    const refused = 'A folder cannot be sent: compress it (a .zip) and send that.';
    const folders = names.map((name) => ({
      key: ++this.#key,
      file: new File([], name),
      reading: false,
      facts: null,
      thumbnail: null,
      refused,
    }));
    if (folders.length > 0) this.#byConversation.set(conversation, [...this.in(conversation), ...folders]);
  }

  remove(conversation: ConversationId, key: number): void {
    const list = this.in(conversation);
    for (const a of list) if (a.key === key && a.thumbnail) URL.revokeObjectURL(a.thumbnail);
    this.#byConversation.set(
      conversation,
      list.filter((a) => a.key !== key),
    );
  }

  /**
   * Takes the tray's files for sending (once every image is measured), leaving it empty. The
   * thumbnails' URLs go with them: the sent message keeps showing them.
   */
  async take(conversation: ConversationId): Promise<Attachment[]> {
    await this.#settled(conversation);
    const ready = this.in(conversation).filter((a) => a.refused === null);
    this.#byConversation.set(
      conversation,
      this.in(conversation).filter((a) => a.refused !== null),
    );
    return ready;
  }

  /** Puts files taken for sending back (the send was refused), ahead of any added since. */
  putBack(conversation: ConversationId, taken: readonly Attachment[]): void {
    this.#byConversation.set(conversation, [...taken, ...this.in(conversation)]);
  }

  #pending = new Map<number, Promise<void>>();

  #read(conversation: ConversationId, key: number, file: File): Promise<void> {
    const reading = describeImage(file).then((facts) => {
      this.#pending.delete(key);
      const list = this.#byConversation.get(conversation);
      if (!list?.some((a) => a.key === key)) return;
      const thumbnail = facts?.preview ? URL.createObjectURL(facts.preview.file) : null;
      this.#byConversation.set(
        conversation,
        list.map((a) => (a.key === key ? { ...a, reading: false, facts, thumbnail } : a)),
      );
    });
    this.#pending.set(key, reading);
    return reading;
  }

  async #settled(conversation: ConversationId): Promise<void> {
    const keys = this.in(conversation).map((a) => a.key);
    await Promise.all(keys.map((k) => this.#pending.get(k)));
  }
}

/** What sendFiles takes for the tray's files: each image with its size and preview. */
export function filesToSend(taken: readonly Attachment[]): SendFilesInput['files'] {
  return taken.map((a) => {
    const entry: SendFilesInput['files'][number] = { file: a.file };
    if (a.facts) entry.image = a.facts.image;
    if (a.facts?.preview) entry.preview = a.facts.preview;
    return entry;
  });
}
