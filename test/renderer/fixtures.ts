/** People and messages the state tests share: "me" in a room called Lab with Bob. */
import type { OutgoingMessage, RoomView } from '../../src/shared/chat-api.ts';
import type { ChatMessage, Member } from '../../src/shared/protocol.ts';

export const member = (id: string, name: string, status: Member['status'] = 'online'): Member => ({
  id,
  name,
  status,
  joinedAt: 0,
});

export const me = member('me', 'Me');
export const bob = member('bob', 'Bob');
export const ann = member('ann', 'Ann');

export const lab = (members: Member[] = [me, bob]): RoomView => ({ name: 'Lab', you: me, members });

/** Message `seq` from `from`, to the room or to one member. */
export const message = (seq: number, from: string, to: string | null = null): ChatMessage => ({
  seq,
  from,
  to,
  text: `t${seq}`,
  ts: seq,
  clientId: `x${seq}`,
});

export const pending = (clientId: string, conversation: string, text: string): OutgoingMessage => ({
  clientId,
  conversation,
  text,
  ts: 1,
  status: 'pending',
});

/** Lets every promise already settled run its callbacks (commands answer asynchronously). */
export const settle = (): Promise<void> => new Promise((done) => setTimeout(done, 0));
