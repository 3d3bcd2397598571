import type { ChatMessage } from '../../protocol/schema.js';
import { badRequest } from '../errors.js';
import { cleanText } from '../util/text.js';
import type { Peer } from './peer.js';


/** A room's chat: numbered messages, the last `keep` of them kept for late joiners. */
export class ChatLog {
  private readonly messages: ChatMessage[] = [];
  private nextSeq = 0;

  constructor(
    private readonly keep: number,
    private readonly maxLength: number,
  ) {}

  /** The text as it will be stored; throws bad_request for an empty or too long one. */
  clean(raw: string): string {
    const text = cleanText(raw);
    if (!text) throw badRequest('empty chat message');
    const length = [...text].length;
    if (length > this.maxLength) throw badRequest(`chat message too long: ${length} characters, at most ${this.maxLength}`);
    return text;
  }

  add(peer: Peer, raw: string): ChatMessage {
    const text = this.clean(raw);
    const message: ChatMessage = { seq: this.nextSeq++, peerId: peer.id, userId: peer.userId, name: peer.name, role: peer.role, text, ts: Date.now() };
    this.messages.push(message);
    if (this.messages.length > this.keep) this.messages.splice(0, this.messages.length - this.keep);
    return message;
  }

  history(): ChatMessage[] {
    return [...this.messages];
  }
}
