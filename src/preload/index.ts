/**
 * The only bridge between the page and main: one function per ChatApi command
 * and one event subscription. ipcRenderer itself never reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent, webUtils } from 'electron';
import type { ChatApi, ChatEvent, CommandInput, LocalFile, SendFilesInput } from '../shared/chat-api.ts';
import { desktopFileUrl } from '../shared/files.ts';

/**
 * A file as main takes it: the path of a picked or dropped file (only Electron can tell it, from
 * the File object itself: the page cannot name a path), else (pasted, no path) its bytes.
 */
async function fileSource(file: LocalFile): Promise<{ path: string } | { bytes: Uint8Array<ArrayBuffer> }> {
  let path = '';
  try {
    path = webUtils.getPathForFile(file as File);
  } catch {
    // Not a File at all (a Blob the page made): it has no path.
  }
  return path ? { path } : { bytes: new Uint8Array(await file.arrayBuffer()) };
}

async function sendFilesPayload(input: SendFilesInput): Promise<CommandInput<'sendFiles'>> {
  return {
    conversation: input.conversation,
    text: input.text,
    files: await Promise.all(
      input.files.map(async ({ file, image, preview }) => ({
        name: file.name,
        type: file.type,
        size: file.size,
        source: await fileSource(file),
        ...(image ? { image } : {}),
        ...(preview
          ? {
              preview: {
                bytes: new Uint8Array(await preview.file.arrayBuffer()),
                type: preview.file.type,
                width: preview.width,
                height: preview.height,
              },
            }
          : {}),
      })),
    ),
  };
}

// Channel names are spelled out (not imported from main) so the sandboxed preload bundles nothing of main.
const api: ChatApi = {
  capabilities: { host: true, notifications: true, desktopSettings: true },
  host: (input) => ipcRenderer.invoke('beacon:host', input),
  join: (input) => ipcRenderer.invoke('beacon:join', input),
  leave: () => ipcRenderer.invoke('beacon:leave'),
  send: (input) => ipcRenderer.invoke('beacon:send', input),
  retry: (input) => ipcRenderer.invoke('beacon:retry', input),
  retryNow: () => ipcRenderer.invoke('beacon:retryNow'),
  retryWithCode: (input) => ipcRenderer.invoke('beacon:retryWithCode', input),
  trustHost: (input) => ipcRenderer.invoke('beacon:trustHost', input),
  typing: (input) => ipcRenderer.invoke('beacon:typing', input),
  setStatus: (input) => ipcRenderer.invoke('beacon:setStatus', input),
  loadOlder: (input) => ipcRenderer.invoke('beacon:loadOlder', input),
  reportUnread: (input) => ipcRenderer.invoke('beacon:reportUnread', input),
  getState: () => ipcRenderer.invoke('beacon:getState'),
  setPreferences: (input) => ipcRenderer.invoke('beacon:setPreferences', input),
  sendFiles: async (input) => ipcRenderer.invoke('beacon:sendFiles', await sendFilesPayload(input)),
  cancelTransfer: (input) => ipcRenderer.invoke('beacon:cancelTransfer', input),
  retryTransfer: (input) => ipcRenderer.invoke('beacon:retryTransfer', input),
  download: (input) => ipcRenderer.invoke('beacon:download', input),
  showInFolder: (input) => ipcRenderer.invoke('beacon:showInFolder', input),
  edit: (input) => ipcRenderer.invoke('beacon:edit', input),
  deleteMessage: (input) => ipcRenderer.invoke('beacon:deleteMessage', input),
  react: (input) => ipcRenderer.invoke('beacon:react', input),
  createChannel: (input) => ipcRenderer.invoke('beacon:createChannel', input),
  updateChannel: (input) => ipcRenderer.invoke('beacon:updateChannel', input),
  archiveChannel: (input) => ipcRenderer.invoke('beacon:archiveChannel', input),
  search: (input) => ipcRenderer.invoke('beacon:search', input),
  loadAround: (input) => ipcRenderer.invoke('beacon:loadAround', input),
  members: (input) => ipcRenderer.invoke('beacon:members', input),
  watchMembers: (input) => ipcRenderer.invoke('beacon:watchMembers', input),
  getSettings: () => ipcRenderer.invoke('beacon:getSettings'),
  setSettings: (input) => ipcRenderer.invoke('beacon:setSettings', input),
  chooseDownloadsFolder: () => ipcRenderer.invoke('beacon:chooseDownloadsFolder'),
  // Main serves it from the current room's host; a room that takes no files answers 404.
  fileUrl: (file, variant) => desktopFileUrl(variant === 'preview' && file.preview ? file.preview.id : file.id),
  onEvent(listener) {
    const forward = (_event: IpcRendererEvent, chatEvent: ChatEvent): void => listener(chatEvent);
    ipcRenderer.on('beacon:event', forward);
    return () => {
      ipcRenderer.removeListener('beacon:event', forward);
    };
  },
};

contextBridge.exposeInMainWorld('beacon', api);
