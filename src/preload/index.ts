/**
 * The only bridge between the page and main: one function per ChatApi command
 * and one event subscription. ipcRenderer itself never reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ChatApi, ChatEvent } from '../shared/chat-api.ts';

// Channel names are spelled out (not imported from main) so the sandboxed preload bundles nothing of main.
const api: ChatApi = {
  capabilities: { host: true, notifications: true },
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
  // Files (issue 12): main answers BEACON_ERR_NO_FILES until they are wired.
  sendFiles: () => ipcRenderer.invoke('beacon:sendFiles', null),
  cancelTransfer: (input) => ipcRenderer.invoke('beacon:cancelTransfer', input),
  retryTransfer: (input) => ipcRenderer.invoke('beacon:retryTransfer', input),
  download: (input) => ipcRenderer.invoke('beacon:download', input),
  showInFolder: (input) => ipcRenderer.invoke('beacon:showInFolder', input),
  fileUrl: () => null,
  onEvent(listener) {
    const forward = (_event: IpcRendererEvent, chatEvent: ChatEvent): void => listener(chatEvent);
    ipcRenderer.on('beacon:event', forward);
    return () => {
      ipcRenderer.removeListener('beacon:event', forward);
    };
  },
};

contextBridge.exposeInMainWorld('beacon', api);
