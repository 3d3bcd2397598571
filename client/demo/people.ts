// The demo page's side panel: participants (with a teacher's controls on each) and raised hands.
import type { NetworkQuality, QualityLevel } from '../../protocol/schema.js';
import type { Classroom } from '../sdk/index.js';
import { $, button } from './ui.js';

/** The participant list: name, role, hand, and for a teacher the controls on each student. */
export function renderPeople(r: Classroom | undefined): void {
  const list = $<HTMLElement>('#people');
  list.replaceChildren();
  if (!r) return;
  const teacher = r.role === 'teacher';
  for (const p of r.peers.values()) {
    const li = document.createElement('li');
    li.dataset.peerId = p.id;
    li.classList.toggle('speaking', r.activeSpeaker === p.id);
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = `${p.name} (${p.role})${p.handRaisedAt !== null ? ' · hand up' : ''}`;
    li.append(name);
    const q = r.quality.get(p.id);
    if (q) li.append(qualityBadge(q));
    if (teacher && p.role !== 'teacher') {
      const sources = new Set(r.remoteTracks.filter((t) => t.peerId === p.id).map((t) => t.source));
      if (sources.has('mic')) li.append(button('Mute', 'mute', () => r.mutePeer(p.id)));
      if (sources.has('cam')) li.append(button('Stop camera', 'stop-cam', () => r.stopPeerSource(p.id, 'cam')));
      if (sources.has('screen')) li.append(button('Stop screen', 'stop-screen', () => r.stopPeerSource(p.id, 'screen')));
      li.append(
        p.speakAllowed
          ? button('Revoke speak', 'revoke-speak', () => r.allowSpeak(p.id, false))
          : button('Allow speak', 'allow-speak', () => r.allowSpeak(p.id, true)),
      );
      li.append(button('Remove', 'remove', () => r.removePeer(p.id)));
    }
    list.append(li);
  }
  renderHands(r);
}

/** Raised hands, first raised first; the teacher can give the floor or lower a hand. */
export function renderHands(r: Classroom | undefined): void {
  const list = $<HTMLElement>('#hands');
  list.replaceChildren();
  if (!r) return;
  const mine = r.handRaisedAt !== null && r.peerId ? [{ id: r.peerId, name: 'You', handRaisedAt: r.handRaisedAt }] : [];
  const queue = [...r.handQueue, ...mine].sort((a, b) => a.handRaisedAt! - b.handRaisedAt!);
  for (const p of queue) {
    const li = document.createElement('li');
    li.dataset.peerId = p.id;
    li.textContent = p.name;
    if (r.role === 'teacher') {
      li.append(button('Allow speak', 'allow-speak', () => r.allowSpeak(p.id, true)));
      li.append(button('Lower', 'lower', () => r.lowerHand(p.id)));
    }
    list.append(li);
  }
  const hand = $<HTMLButtonElement>('#toggle-hand');
  hand.setAttribute('aria-pressed', String(r.handRaisedAt !== null));
  hand.textContent = r.handRaisedAt !== null ? 'Lower hand' : 'Raise hand';
}

export const worstOf = (q: NetworkQuality): QualityLevel | null => {
  const order: (QualityLevel | null)[] = [null, 'good', 'fair', 'poor', 'lost'];
  return order.indexOf(q.uplink) > order.indexOf(q.downlink) ? q.uplink : q.downlink;
};

/** The worse of the two directions, as a coloured label: what a teacher scans for. */
function qualityBadge(q: NetworkQuality): HTMLElement {
  const worst = worstOf(q);
  const el = document.createElement('span');
  el.className = 'quality';
  el.dataset.level = worst ?? 'unknown';
  el.textContent = worst ?? '…';
  el.title = `send ${q.uplink ?? '–'}, receive ${q.downlink ?? '–'}, rtt ${q.rttMs ?? '–'} ms, loss ${q.uplinkLossPct ?? '–'}/${q.downlinkLossPct ?? '–'} %`;
  return el;
}
