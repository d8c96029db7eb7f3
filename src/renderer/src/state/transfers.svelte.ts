import { SvelteMap } from 'svelte/reactivity';
import type {
  ChatApi,
  ConversationId,
  OutgoingMessage,
  Result,
  SendFilesInput,
  SendReceipt,
  Transfer,
} from '../../../shared/chat-api.ts';
import type { FileRef } from '../../../shared/protocol.ts';

/** What this window knows of a file it sent that the host never tells it back. */
export interface SentFile {
  name: string;
  size: number;
  type: string;
  image?: { width: number; height: number };
  /** An object URL of the preview made here (or null): shown while uploading and after. */
  localUrl: string | null;
}

/**
 * Files going up and down, as the 'transfer' events tell them, and whether
 * this room takes files at all. Also what the host does not tell the sender:
 * the host acknowledges a message with files by its seq alone, so the files
 * of one's own message are put together here from the uploads and what was
 * picked (see filesOf).
 */
export class TransfersState {
  readonly byId = new SvelteMap<string, Transfer>();
  /** Null: this room takes no files (no attach button, nothing to drop). */
  files = $state.raw<{ maxFileBytes: number } | null>(null);
  /** The last upload or download that ended, in words, for the live region. */
  announcement = $state('');

  readonly #api: ChatApi;
  readonly #onError: (message: string) => void;
  /** The files of each message sent from this window, in the order picked, by clientId. */
  readonly #sent = new SvelteMap<string, SentFile[]>();
  /** Object URLs of this window's own previews by stored file id, once the host has the file. */
  readonly #localUrls = new SvelteMap<string, string>();

  constructor(api: ChatApi, onError: (message: string) => void) {
    this.#api = api;
    this.#onError = onError;
  }

  loaded(transfers: readonly Transfer[] | undefined, files: { maxFileBytes: number } | null | undefined): void {
    for (const t of transfers ?? []) this.byId.set(t.id, t);
    this.files = files ?? null;
  }

  changed(transfer: Transfer): void {
    const before = this.byId.get(transfer.id);
    this.byId.set(transfer.id, transfer);
    if (before?.state === transfer.state) return;
    const up = transfer.direction === 'upload';
    if (transfer.state === 'done') {
      this.announcement = `${transfer.name} ${up ? 'uploaded' : 'downloaded'}.`;
    } else if (transfer.state === 'failed') {
      const why = transfer.error?.message ?? 'It stopped.';
      this.announcement = `${transfer.name} did not ${up ? 'upload' : 'download'}: ${why}`;
    }
  }

  left(): void {
    this.byId.clear();
    this.files = null;
    for (const files of this.#sent.values()) for (const f of files) if (f.localUrl) URL.revokeObjectURL(f.localUrl);
    this.#sent.clear();
    this.#localUrls.clear();
  }

  /** The uploads of one outgoing message, in its order. */
  uploadsOf(item: OutgoingMessage): { transfer: Transfer | null; sent: SentFile | null }[] {
    const sent = this.#sent.get(item.clientId) ?? [];
    return (item.transfers ?? []).map((id, i) => {
      const transfer = this.byId.get(id) ?? null;
      return { transfer, sent: matchSent(sent, transfer, i) };
    });
  }

  /** The running or finished download of a stored file, the newest if it was fetched twice. */
  downloadOf(fileId: string): Transfer | null {
    let found: Transfer | null = null;
    for (const t of this.byId.values()) if (t.direction === 'download' && t.fileId === fileId) found = t;
    return found;
  }

  /**
   * Where an <img> loads a file from: for a preview of one of this window's own images, the copy it
   * made (no trip to the host); otherwise the ChatApi's URL, null when the room shares no files.
   */
  urlOf(file: FileRef, variant: 'preview' | 'full'): string | null {
    return (variant === 'preview' ? this.#localUrls.get(file.id) : undefined) ?? this.#api.fileUrl(file, variant);
  }

  /**
   * The files of one of this window's messages that the host just acknowledged, as FileRefs built from
   * its uploads (the stored ids) and what was picked (type, pixel size). The host computed a SHA-256
   * the sender is not told; nothing on screen uses it. Undefined for a message without files.
   */
  filesOf(item: OutgoingMessage): FileRef[] | undefined {
    if (!item.transfers || item.transfers.length === 0) return undefined;
    const refs: FileRef[] = [];
    for (const { transfer, sent } of this.uploadsOf(item)) {
      if (!transfer?.fileId) continue;
      const ref: FileRef = {
        id: transfer.fileId,
        name: transfer.name,
        size: transfer.size,
        type: sent?.type ?? '',
        sha256: '',
      };
      if (sent?.image) ref.image = sent.image;
      if (sent?.localUrl) this.#localUrls.set(transfer.fileId, sent.localUrl);
      refs.push(ref);
    }
    return refs.length > 0 ? refs : undefined;
  }

  // ── commands ─────────────────────────────────────────────────────────────

  async send(input: SendFilesInput, localUrls: readonly (string | null)[]): Promise<Result<SendReceipt>> {
    const result = await this.#api.sendFiles(input);
    if (result.ok) {
      this.#sent.set(
        result.value.clientId,
        input.files.map((f, i) => {
          const sent: SentFile = {
            name: f.file.name,
            size: f.file.size,
            type: f.file.type,
            localUrl: localUrls[i] ?? null,
          };
          if (f.image) sent.image = f.image;
          return sent;
        }),
      );
    }
    return result;
  }

  cancel = (id: string): void => this.#run(this.#api.cancelTransfer({ id }));
  retry = (id: string): void => this.#run(this.#api.retryTransfer({ id }));
  download = (fileId: string, conversation: ConversationId): void =>
    this.#run(this.#api.download({ fileId, conversation }));
  showInFolder = (id: string): void => this.#run(this.#api.showInFolder({ id }));

  #run(command: Promise<Result<unknown>>): void {
    void command.then((result) => {
      if (!result.ok) this.#onError(result.error.message);
    });
  }
}

/** The picked file a transfer carries: the same name and size, else the one at the same place. */
function matchSent(sent: readonly SentFile[], transfer: Transfer | null, index: number): SentFile | null {
  if (transfer) {
    const same = sent.find((f) => f.name === transfer.name && f.size === transfer.size);
    if (same) return same;
  }
  return sent[index] ?? null;
}
