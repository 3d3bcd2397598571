import type { types } from 'mediasoup-client';

interface LayerState {
  /** The most the uplink lets it send (undefined: everything). */
  uplink: number | undefined;
  /** The most anyone shows (dynacast; undefined: everything, null: nothing). */
  wanted: number | null | undefined;
  /** What its encodings are set to now (undefined: as produced, everything). */
  applied: number | null | undefined;
  /** Changes go one at a time: each renegotiates. */
  chain: Promise<void>;
}

/**
 * How many layers of a video we encode: the fewest of what our uplink allows (the networkQuality
 * the server rates it) and what anyone in the class shows (the server's `layersWanted`, dynacast),
 * and none at all while nobody shows it.
 *
 * "None" sets every encoding inactive through mediasoup-client's setMaxSpatialLayer(-1): the
 * browser sends no RTP for it at all, while the producer stays live and unpaused at the server.
 * producer.pause() would not do: it only disables the track (the browser still sends black
 * frames) and it is what a mute uses, which the class sees.
 */
export class SendLayers {
  private readonly states = new WeakMap<types.Producer, LayerState>();

  constructor(
    /** We are about to ask the encoder for more (the network report lets it ramp up). */
    private readonly sendingMore: () => void,
    private readonly failed: (err: Error) => void,
  ) {}

  /** The uplink allows up to `layer` (undefined: everything). */
  setUplink(producer: types.Producer, layer: number | undefined): void {
    this.state(producer).uplink = layer;
    this.apply(producer);
  }

  /** The class shows up to `layer` of it (null: nobody shows it). */
  setWanted(producer: types.Producer, layer: number | null): void {
    this.state(producer).wanted = layer;
    this.apply(producer);
  }

  /** The highest layer it sends now: undefined when everything (never limited), null when nothing. */
  sending(producer: types.Producer): number | null | undefined {
    return this.states.get(producer)?.applied;
  }

  /** Whether nobody shows it (its publisher sends nothing of it). */
  unwanted(producer: types.Producer): boolean {
    return this.states.get(producer)?.wanted === null;
  }

  private state(producer: types.Producer): LayerState {
    let s = this.states.get(producer);
    if (!s) this.states.set(producer, (s = { uplink: undefined, wanted: undefined, applied: undefined, chain: Promise.resolve() }));
    return s;
  }

  /** Brings the encodings to the target as it stands when its turn comes (a burst of changes costs one). */
  private apply(producer: types.Producer): void {
    const s = this.state(producer);
    s.chain = s.chain.then(async () => {
      if (producer.closed) return;
      const top = Math.max(0, (producer.rtpParameters.encodings?.length ?? 1) - 1);
      const target = s.wanted === null ? null : Math.min(top, s.uplink ?? top, s.wanted ?? top);
      const current = s.applied === undefined ? top : s.applied;
      if (target === current) return;
      if (target !== null && (current === null || target > current)) this.sendingMore();
      await producer.setMaxSpatialLayer(target ?? -1);
      s.applied = target;
    }).catch((err: unknown) => this.failed(err as Error));
  }
}
