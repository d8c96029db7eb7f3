import { mount } from 'svelte';
import App from './App.svelte';
import { createWebChatApi } from './web-chat-api.ts';
import { applyTheme, storedTheme } from './state/ui.svelte.ts';

// Electron's preload exposes the ChatApi as window.beacon; a browser served by the host builds its own.
const api = window.beacon ?? createWebChatApi();

// The chosen theme before the first paint, so a dark choice never flashes light.
applyTheme(storedTheme());

const target = document.getElementById('app');
if (!target) throw new Error('Beacon: #app element missing from index.html');
mount(App, { target, props: { api } });
