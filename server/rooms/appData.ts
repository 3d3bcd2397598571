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
  /** The spatial layer the client asked for (setConsumerPreferredLayers, or its view's size); none: the best. */
  preferredSpatial?: number;
  /** The client paused it itself (pauseConsumer): not forwarded until it resumes it. */
  clientPaused?: boolean;
  /** Video: its receiver's view shows it (or the server's choice for a silent client does), within the cap. */
  shown?: boolean;
  [key: string]: unknown;
}

export interface TransportData {
  direction: Direction;
  [key: string]: unknown;
}
