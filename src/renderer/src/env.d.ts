/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { ChatApi } from '../../shared/chat-api.ts';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a plain browser. */
    beacon?: ChatApi;
  }
}

export {};
