import { mount } from 'svelte';
import App from '../../src/renderer/src/App.svelte';
import type { Capabilities, ChatSnapshot } from '../../src/shared/chat-api.ts';
import type { ChatMessage, Member } from '../../src/shared/protocol.ts';
import { createFakeChatApi, type FakeChatApi } from './fake-chat-api.ts';

export interface MountOptions {
  capabilities?: Partial<Capabilities>;
  snapshot?: Partial<ChatSnapshot>;
}

/** `count` room messages ending at seq `lastSeq`, one second apart, from alternating senders. */
function makeMessages(count: number, lastSeq: number, senders: readonly string[] = ['bob', 'ann']): ChatMessage[] {
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
      text: `Message number ${seq}`,
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
