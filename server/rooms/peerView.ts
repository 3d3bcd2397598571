import type { ClientRequestData } from '../../protocol/schema.js';

export type ShownVideo = ClientRequestData<'setView'>['videos'][number];

/**
 * What one participant's page shows, as its client last said (setView). Until the first view the
 * participant is silent and the server chooses for it (the fallback, views.ts).
 */
export class PeerView {
  private shown: ShownVideo[] | null = null;
  private onlyAudio = false;
  /** The layer this view last gave each consumer: a view repeated unchanged does not undo a later setConsumerPreferredLayers. */
  private readonly layersGiven = new Map<string, number>();

  /** False until the client's first setView. */
  get explicit(): boolean {
    return this.shown !== null;
  }

  /** The videos it shows, highest priority first, each once. */
  get videos(): readonly ShownVideo[] {
    return this.shown ?? [];
  }

  /** No video but screen shares. */
  get audioOnly(): boolean {
    return this.onlyAudio;
  }

  set(videos: readonly ShownVideo[], audioOnly: boolean): void {
    const seen = new Set<string>();
    this.shown = videos.filter((v) => !seen.has(v.consumerId) && seen.add(v.consumerId));
    this.onlyAudio = audioOnly;
  }

  /** True when the view should give `consumerId` layer `layer` now: it has not, or it gave another. */
  takeLayer(consumerId: string, layer: number): boolean {
    if (this.layersGiven.get(consumerId) === layer) return false;
    this.layersGiven.set(consumerId, layer);
    return true;
  }

  /** The consumer closed. */
  forget(consumerId: string): void {
    this.layersGiven.delete(consumerId);
  }
}
