import { describe, expect, it } from 'vitest';
import { layerForWidth } from '../../server/rooms/layers.js';
import { PeerView } from '../../server/rooms/peerView.js';
import { exemptFromCap, fallbackOrder, pickVideos, type RoomVideo, type VideoRef } from '../../server/rooms/videoSelection.js';

const cam = (id: string, ownerRole: VideoRef['ownerRole'] = 'student'): VideoRef => ({ id, source: 'cam', ownerRole });
const screen = (id: string, ownerRole: VideoRef['ownerRole'] = 'student'): VideoRef => ({ id, source: 'screen', ownerRole });

describe('which videos a receiver gets', () => {
  it("the teachers' cameras and every screen share are exempt from the cap; students' cameras are not", () => {
    expect(exemptFromCap(cam('t', 'teacher'))).toBe(true);
    expect(exemptFromCap(screen('s'))).toBe(true);
    expect(exemptFromCap(cam('s'))).toBe(false);
  });

  it('takes the exempt ones wherever they are, and the others in order up to the cap', () => {
    const ordered = [cam('a'), cam('b'), cam('t', 'teacher'), cam('c'), screen('s'), cam('d')];
    expect([...pickVideos(ordered, 2)]).toEqual(['a', 'b', 't', 's']);
    expect([...pickVideos(ordered, 0)]).toEqual(['t', 's']);
    expect([...pickVideos(ordered, null)]).toEqual(['a', 'b', 't', 'c', 's', 'd']);
    // An id listed twice counts once.
    expect([...pickVideos([cam('a'), cam('a'), cam('b')], 2)]).toEqual(['a', 'b']);
  });

  it("fallback order: teachers' cameras and screen shares, then recent speakers, then join order", () => {
    const v = (id: string, ownerId: string, joinIndex: number, source: RoomVideo['source'] = 'cam', ownerRole: RoomVideo['ownerRole'] = 'student'): RoomVideo => ({ id, ownerId, joinIndex, source, ownerRole });
    const videos = [v('s1', 'p1', 1), v('s2', 'p2', 2), v('s3', 'p3', 3), v('t', 'p0', 0, 'cam', 'teacher'), v('share', 'p4', 4, 'screen')];
    const order = (speakers: string[]) => [...fallbackOrder(videos, speakers).entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
    expect(order([])).toEqual(['t', 'share', 's1', 's2', 's3']);
    expect(order(['p3'])).toEqual(['t', 'share', 's3', 's1', 's2']);
    expect(order(['p2', 'p3'])).toEqual(['t', 'share', 's2', 's3', 's1']);
    // A teacher speaking changes nothing: its camera is first anyway.
    expect(order(['p0', 'p3'])).toEqual(['t', 'share', 's3', 's1', 's2']);
  });

  it.each([
    [0, 0],
    [160, 0],
    [161, 1],
    [640, 1],
    [641, 3],
    [1280, 3],
    [3840, 3],
  ])('a video shown %i device pixels wide gets spatial layer %i (3: the top there is)', (width, layer) => {
    expect(layerForWidth(width)).toBe(layer);
  });
});

describe('a peer view', () => {
  it('is silent until the first setView; keeps the first entry of a consumer listed twice', () => {
    const view = new PeerView();
    expect(view.explicit).toBe(false);
    view.set(
      [
        { consumerId: 'a', width: 160, height: 90 },
        { consumerId: 'b', width: 640, height: 360 },
        { consumerId: 'a', width: 1280, height: 720 },
      ],
      false,
    );
    expect(view.explicit).toBe(true);
    expect(view.videos).toEqual([
      { consumerId: 'a', width: 160, height: 90 },
      { consumerId: 'b', width: 640, height: 360 },
    ]);
    view.set([], true);
    expect(view.explicit).toBe(true);
    expect(view.audioOnly).toBe(true);
  });

  it('gives a consumer a layer once: the same view again leaves a later explicit choice alone', () => {
    const view = new PeerView();
    expect(view.takeLayer('a', 0)).toBe(true);
    expect(view.takeLayer('a', 0)).toBe(false);
    expect(view.takeLayer('a', 3)).toBe(true);
    view.forget('a');
    expect(view.takeLayer('a', 3)).toBe(true);
  });
});
