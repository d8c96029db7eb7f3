import { mount } from 'svelte';
import App from '../../src/renderer/src/App.svelte';
import type { Capabilities, ChatSnapshot } from '../../src/shared/chat-api.ts';
import type { ChatMessage, Member } from '../../src/shared/protocol.ts';
import { createFakeChatApi, type FakeChatApi } from './fake-chat-api.ts';
import { applyTheme, storedTheme } from '../../src/renderer/src/state/ui.svelte.ts';

export interface MountOptions {
  capabilities?: Partial<Capabilities>;
  snapshot?: Partial<ChatSnapshot>;
}

/**
 * What people type, for a benchmark that renders what they see: most messages plain, some with
 * bold, code, a quote, a list, a link, a code block or right-to-left text.
 */
function formattedText(seq: number): string {
  switch (seq % 12) {
    case 1:
      return `Message number ${seq} with **bold** and _italics_ in it`;
    case 3:
      return `Try \`npm run bench -- --scenario interface\` for ${seq}`;
    case 5:
      return `> quoted from earlier\nand the answer to it, number ${seq}`;
    case 7:
      return `Three things for ${seq}:\n- first\n- second, a little longer than the first\n- third`;
    case 8:
      return `See https://example.org/notes/${seq} for the details`;
    case 10:
      return '```\nconst answer = ' + String(seq) + ';\nconsole.log(answer);\n```';
    case 11:
      return `שלום, הודעה מספר ${seq}!`;
    default:
      return `Message number ${seq}`;
  }
}

/**
 * `count` room messages ending at seq `lastSeq`, one second apart, from alternating senders;
 * `formatted` mixes in the Markdown and scripts people use (formattedText).
 */
function makeMessages(
  count: number,
  lastSeq: number,
  senders: readonly string[] = ['bob', 'ann'],
  formatted = false,
): ChatMessage[] {
  const out: ChatMessage[] = new Array<ChatMessage>(count);
  const first = lastSeq - count + 1;
  const end = Date.now();
  for (let i = 0; i < count; i++) {
    const seq = first + i;
    out[i] = {
      seq,
      // Runs of three by the same sender exercise grouping.
      from: senders[Math.floor(seq / 3) % senders.length]!,
      to: null,
      text: formatted ? formattedText(seq) : `Message number ${seq}`,
      ts: end - (lastSeq - seq) * 1000,
      clientId: `m-${seq}`,
    };
  }
  return out;
}

const member = (id: string, name: string): Member => ({ id, name, status: 'online', joinedAt: 0 });

/**
 * A real picture as a File, drawn in the page: a gradient with shapes (so it does not compress to
 * nothing), PNG unless asked otherwise, as a camera, a screenshot tool or a browser would hand it over.
 */
async function makeImage(width: number, height: number, name: string, type = 'image/png'): Promise<File> {
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d')!;
  const gradient = g.createLinearGradient(0, 0, width, height);
  gradient.addColorStop(0, '#2557d6');
  gradient.addColorStop(0.5, '#f0a53a');
  gradient.addColorStop(1, '#1d8a4a');
  g.fillStyle = gradient;
  g.fillRect(0, 0, width, height);
  for (let i = 0; i < 40; i++) {
    g.fillStyle = `hsl(${(i * 37) % 360} 70% 60% / 0.6)`;
    g.beginPath();
    g.arc(((i * 97) % 100) * (width / 100), ((i * 53) % 100) * (height / 100), (width + height) / 30, 0, Math.PI * 2);
    g.fill();
  }
  const blob = await canvas.convertToBlob({ type });
  return new File([blob], name, { type });
}

/** A file of `size` bytes of text that is not a picture (a PDF, an archive), under `name`. */
function makeFile(name: string, size: number, type = 'application/pdf'): File {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = 32 + (i % 90);
  return new File([bytes], name, { type });
}

/** A file's bytes as base64, to carry them out of the page (setInputFiles, a route's answer). */
async function base64Of(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** A DataTransfer holding `files`, as a drop or a paste carries them. */
function transferOf(files: File[]): DataTransfer {
  const data = new DataTransfer();
  for (const file of files) data.items.add(file);
  return data;
}

const harness = {
  fake: null as FakeChatApi | null,
  makeMessages,
  member,
  makeImage,
  makeFile,
  transferOf,
  base64Of,
  mount(options: MountOptions = {}): FakeChatApi {
    const fake = createFakeChatApi(options);
    harness.fake = fake;
    mount(App, { target: document.getElementById('app')!, props: { api: fake } });
    return fake;
  },
  /** The real in-browser ChatApi (as a page served by a host has it), started as main.ts starts it. */
  async mountWeb(): Promise<void> {
    // Loaded only here: its upload library is CommonJS, pre-bundled for this (harness-server.ts).
    const { createWebChatApi } = await import('../../src/renderer/src/web-chat-api.ts');
    applyTheme(storedTheme());
    mount(App, { target: document.getElementById('app')!, props: { api: createWebChatApi() } });
  },
};

declare global {
  interface Window {
    harness: typeof harness;
  }
}

window.harness = harness;
