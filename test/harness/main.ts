import { mount } from 'svelte';
import App from '../../src/renderer/src/App.svelte';
import type { Capabilities, ChatSnapshot } from '../../src/shared/chat-api.ts';
import type { ChatMessage, Member } from '../../src/shared/protocol.ts';
import { createFakeChatApi, type FakeChatApi } from './fake-chat-api.ts';

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

const harness = {
  fake: null as FakeChatApi | null,
  makeMessages,
  member,
  mount(options: MountOptions = {}): FakeChatApi {
    const fake = createFakeChatApi(options);
    harness.fake = fake;
    mount(App, { target: document.getElementById('app')!, props: { api: fake } });
    return fake;
  },
};

declare global {
  interface Window {
    harness: typeof harness;
  }
}

window.harness = harness;
