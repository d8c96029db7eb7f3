/**
 * An upload's metadata: what the creation's Upload-Metadata may say (§18.2) and what the host keeps
 * in the tus record instead — the sanitised name, and the uploader, which only the host writes.
 */
import { UPLOAD_METADATA } from '../../shared/files.ts';
import { FileId, WIRE_LIMITS } from '../../shared/protocol.ts';
import { sanitizeFileName } from '../../shared/file-names.ts';
import { FileRefusal } from './file-refusal.ts';
import * as v from 'valibot';

export interface UploadMetadata {
  name: string;
  /** 'room' or the other member's id. */
  conversation: string;
  type: string;
  sha256?: string;
  preview?: string;
  uploader: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const MEMBER = /^[A-Za-z0-9_-]{1,64}$/;
/** The key the host adds to the tus record; a client's own `uploader` key is never read. */
const UPLOADER = 'uploader';

type Raw = Record<string, string | null> | undefined;

/**
 * The creation's metadata, checked and normalised, or a refusal (400 BEACON_ERR_FILE_REQUEST).
 * Keys Beacon does not know (tus clients add `filename`, `filetype`) are dropped.
 */
export function creationMetadata(raw: Raw, uploader: string): UploadMetadata {
  const get = (key: string): string | undefined => raw?.[key] ?? undefined;
  const name = get(UPLOAD_METADATA.name);
  const conversation = get(UPLOAD_METADATA.conversation);
  const type = get(UPLOAD_METADATA.type) ?? '';
  const sha256 = get(UPLOAD_METADATA.sha256);
  const preview = get(UPLOAD_METADATA.preview);
  const bad = (why: string): never => {
    throw new FileRefusal('BEACON_ERR_FILE_REQUEST', why);
  };
  if (name === undefined || name.length === 0) bad('no name');
  if (conversation === undefined || (conversation !== 'room' && !MEMBER.test(conversation))) bad('no conversation');
  if (type.length > WIRE_LIMITS.fileTypeChars) bad('type too long');
  if (sha256 !== undefined && !SHA256.test(sha256)) bad('sha256 is not 64 lower-case hex digits');
  if (preview !== undefined && !v.is(FileId, preview)) bad('preview is not a file id');
  return {
    name: sanitizeFileName(name!),
    conversation: conversation!,
    // A label only; control characters would still be a nuisance on a terminal.
    // eslint-disable-next-line no-control-regex
    type: type.replace(/[\u0000-\u001F\u007F]/g, ''),
    ...(sha256 === undefined ? {} : { sha256 }),
    ...(preview === undefined ? {} : { preview }),
    uploader,
  };
}

/** The metadata as the tus record keeps it. */
export function storedMetadata(meta: UploadMetadata): Record<string, string> {
  const stored: Record<string, string> = {
    [UPLOAD_METADATA.name]: meta.name,
    [UPLOAD_METADATA.conversation]: meta.conversation,
    [UPLOAD_METADATA.type]: meta.type,
    [UPLOADER]: meta.uploader,
  };
  if (meta.sha256 !== undefined) stored[UPLOAD_METADATA.sha256] = meta.sha256;
  if (meta.preview !== undefined) stored[UPLOAD_METADATA.preview] = meta.preview;
  return stored;
}

/** Metadata read back from a tus record this host wrote; null for a record it did not. */
export function readUploadMetadata(raw: Raw): UploadMetadata | null {
  const uploader = raw?.[UPLOADER];
  const name = raw?.[UPLOAD_METADATA.name];
  const conversation = raw?.[UPLOAD_METADATA.conversation];
  if (!uploader || !name || !conversation) return null;
  const sha256 = raw[UPLOAD_METADATA.sha256] ?? undefined;
  const preview = raw[UPLOAD_METADATA.preview] ?? undefined;
  return {
    name,
    conversation,
    type: raw[UPLOAD_METADATA.type] ?? '',
    uploader,
    ...(sha256 ? { sha256 } : {}),
    ...(preview ? { preview } : {}),
  };
}
