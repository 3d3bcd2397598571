import type { Direction, Role, Source } from '../../protocol/schema.js';

/** What a room hangs on the mediasoup objects it creates (their appData). */

export interface ProducerData {
  peerId: string;
  source: Source;
  [key: string]: unknown;
}

export interface ConsumerData {
  /** The peer whose producer this consumes. */
  peerId: string;
  source: Source;
  /** Whether the client confirmed it has the consumer (only then is it resumed). */
  acked: boolean;
  /** The owner's role, for priorities (the teacher's video first). */
  ownerRole: Role;
  /** The spatial layer the client asked for (setConsumerPreferredLayers); none: the best. */
  preferredSpatial?: number;
  [key: string]: unknown;
}

export interface TransportData {
  direction: Direction;
  [key: string]: unknown;
}
