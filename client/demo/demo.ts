// The demo page: join a class, see everyone, publish camera / microphone / screen, raise a hand,
// chat; a teacher also gets the participant controls, the hand queue, lock, record and end class.
// Also accepts /?room=R&name=N&role=ROLE&autojoin=1 to join and publish at once.
import type { ChatMessage, NetworkQuality, QualityLevel } from '../../protocol/schema.js';
import { Classroom, type RemoteTrack, type Source } from '../sdk/index.js';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>('#join');
const grid = $<HTMLElement>('#grid');
const stateEl = $<HTMLElement>('#state');
const errorEl = $<HTMLElement>('#error');
const controls = $<HTMLElement>('#controls');
const teacherControls = $<HTMLElement>('#teacher-controls');
const side = $<HTMLElement>('#side');
const noticeEl = $<HTMLElement>('#notice');
let room: Classroom | undefined;

declare global {
  interface Window {
    classroom?: Classroom;
  }
}

function showError(err: unknown): void {
  errorEl.textContent = err instanceof Error ? err.message : String(err);
}

function notice(text: string): void {
  noticeEl.textContent = text;
}

const isTeacher = () => room?.role === 'teacher';

function button(label: string, action: string, onClick: () => Promise<unknown>): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'small';
  b.dataset.action = action;
  b.textContent = label;
  b.onclick = () => void onClick().catch(showError);
  return b;
}

/** The participant list: name, role, hand, and for a teacher the controls on each student. */
function renderPeople(): void {
  const r = room;
  const list = $<HTMLElement>('#people');
  list.replaceChildren();
  if (!r) return;
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
    if (isTeacher() && p.role !== 'teacher') {
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
  renderHands();
}

/** Raised hands, first raised first; the teacher can give the floor or lower a hand. */
function renderHands(): void {
  const r = room;
  const list = $<HTMLElement>('#hands');
  list.replaceChildren();
  if (!r) return;
  const mine = r.handRaisedAt !== null && r.peerId ? [{ id: r.peerId, name: 'You', handRaisedAt: r.handRaisedAt }] : [];
  const queue = [...r.handQueue, ...mine].sort((a, b) => a.handRaisedAt! - b.handRaisedAt!);
  for (const p of queue) {
    const li = document.createElement('li');
    li.dataset.peerId = p.id;
    li.textContent = p.name;
    if (isTeacher()) {
      li.append(button('Allow speak', 'allow-speak', () => r.allowSpeak(p.id, true)));
      li.append(button('Lower', 'lower', () => r.lowerHand(p.id)));
    }
    list.append(li);
  }
  const hand = $<HTMLButtonElement>('#toggle-hand');
  hand.setAttribute('aria-pressed', String(r.handRaisedAt !== null));
  hand.textContent = r.handRaisedAt !== null ? 'Lower hand' : 'Raise hand';
}

const worstOf = (q: NetworkQuality): QualityLevel | null => {
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

function addChat(m: ChatMessage): void {
  const log = $<HTMLElement>('#chat-log');
  const li = document.createElement('li');
  li.dataset.seq = String(m.seq);
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = m.peerId === room?.peerId ? 'You' : m.name;
  li.append(who, document.createTextNode(m.text)); // text, never HTML
  const next = [...log.children].find((el) => Number((el as HTMLElement).dataset.seq) > m.seq);
  log.insertBefore(li, next ?? null);
  li.scrollIntoView({ block: 'nearest' });
}

function resetPage(message: string): void {
  for (const el of grid.querySelectorAll('figure.tile:not(#local)')) el.remove();
  $<HTMLElement>('#local').hidden = true;
  $<HTMLElement>('#chat-log').replaceChildren();
  form.hidden = false;
  controls.hidden = true;
  teacherControls.hidden = true;
  side.hidden = true;
  notice(message);
}

async function fetchToken(roomId: string, name: string, role: string, userId: string): Promise<string> {
  const res = await fetch('/api/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room: roomId, name, role, userId }),
  });
  const body = (await res.json()) as { token?: string; error?: { message: string } };
  if (!res.ok || !body.token) throw new Error(body.error?.message ?? `token request failed (${res.status})`);
  return body.token;
}

function tileFor(peerId: string, name: string): HTMLElement {
  let tile = grid.querySelector<HTMLElement>(`figure[data-peer-id="${CSS.escape(peerId)}"]`);
  if (!tile) {
    tile = document.createElement('figure');
    tile.className = 'tile';
    tile.dataset.peerId = peerId;
    const caption = document.createElement('figcaption');
    caption.textContent = name;
    tile.append(caption);
    grid.append(tile);
  }
  return tile;
}

function addTrack(t: RemoteTrack): void {
  const peer = room?.peers.get(t.peerId);
  const tile = tileFor(t.peerId, peer?.name ?? 'guest');
  const el = document.createElement(t.kind === 'video' ? 'video' : 'audio');
  el.dataset.peerId = t.peerId;
  el.dataset.consumerId = t.consumerId;
  el.dataset.source = t.source;
  el.autoplay = true;
  el.setAttribute('playsinline', '');
  el.srcObject = new MediaStream([t.track]);
  if (t.kind === 'video') {
    (el as HTMLVideoElement).muted = true; // audio plays through its own element
    tile.prepend(el);
  } else {
    el.hidden = true;
    tile.append(el);
  }
  void el.play().catch(() => undefined);
}

function removeTrack(t: RemoteTrack): void {
  grid.querySelector(`[data-consumer-id="${CSS.escape(t.consumerId)}"]`)?.remove();
}

function setPaused(t: RemoteTrack, paused: boolean): void {
  const tile = tileFor(t.peerId, room?.peers.get(t.peerId)?.name ?? 'guest');
  const badge = tile.querySelector(`.muted[data-source="${t.source}"]`);
  if (paused && !badge) {
    const b = document.createElement('span');
    b.className = 'muted';
    b.dataset.source = t.source;
    b.textContent = t.source === 'mic' ? 'muted' : `${t.source} off`;
    tile.append(b);
  } else if (!paused) badge?.remove();
}

const sourceNames: Record<Source, string> = { mic: 'microphone', cam: 'camera', screen: 'screen share', screenAudio: "screen share's sound" };

/** The sources with a button of their own (a screen's sound comes and goes with the screen). */
type ButtonSource = Exclude<Source, 'screenAudio'>;
const sourceButtons: Record<ButtonSource, { id: string; on: string; off: string }> = {
  mic: { id: '#toggle-mic', on: 'Mute', off: 'Unmute' },
  cam: { id: '#toggle-cam', on: 'Stop camera', off: 'Start camera' },
  screen: { id: '#toggle-screen', on: 'Stop sharing', off: 'Share screen' },
};

/** Buttons show what the SDK says, so that the teacher's actions on us show as well. */
function syncButtons(): void {
  for (const [source, b] of Object.entries(sourceButtons) as [ButtonSource, (typeof sourceButtons)[ButtonSource]][]) {
    const live = Boolean(room?.localTrack(source)) && !room?.isPaused(source);
    const el = $<HTMLButtonElement>(b.id);
    el.setAttribute('aria-pressed', String(source === 'screen' ? live : !live));
    el.textContent = live ? b.on : b.off;
  }
  const cam = room?.localTrack('cam');
  $<HTMLElement>('#local').hidden = !cam;
  const preview = $<HTMLVideoElement>('#local-video');
  if (cam && (preview.srcObject as MediaStream | null)?.getVideoTracks()[0] !== cam) preview.srcObject = new MediaStream([cam]);
}

function toggleButton(source: ButtonSource): void {
  $<HTMLButtonElement>(sourceButtons[source].id).onclick = async () => {
    const r = room;
    if (!r) return;
    try {
      if (source === 'screen') {
        if (r.localTrack('screen')) await r.unpublish('screen');
        else await r.publishScreen({ audio: true }); // the sound too, where the user shares it
      } else if (!r.localTrack(source)) {
        await (source === 'cam' ? r.publishCamera() : r.publishMicrophone());
      } else if (r.isPaused(source)) {
        await r.unmute(source);
      } else {
        await r.mute(source);
      }
    } catch (err) {
      showError(err);
    }
    syncButtons();
  };
}

async function join(roomId: string, name: string, role: string, publish: boolean): Promise<void> {
  errorEl.textContent = '';
  // One user id for this tab, and a fresh token on every (re)connection: a reconnect after the
  // server restarted, or after the first token expired, still resumes or rejoins as the same user.
  const userId = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  const token = () => fetchToken(roomId, name, role, userId);
  await token(); // fail early, with the server's message, if the token request is refused
  // ?relay=1 sends everything through the TURN relay, as a strict firewall would force.
  room = new Classroom({ url: '/ws', token, forceRelay: new URLSearchParams(location.search).get('relay') === '1' });
  window.classroom = room;
  room.on('connectionState', (s) => {
    stateEl.dataset.state = s;
    stateEl.textContent = s;
  });
  room.on('peerJoined', (p) => {
    tileFor(p.id, p.name);
    renderPeople();
  });
  room.on('peerLeft', (id) => {
    grid.querySelector(`figure[data-peer-id="${CSS.escape(id)}"]`)?.remove();
    renderPeople();
  });
  room.on('peerUpdated', renderPeople);
  room.on('track', (t) => {
    addTrack(t);
    renderPeople();
  });
  room.on('trackEnded', (t) => {
    removeTrack(t);
    renderPeople();
  });
  room.on('chat', addChat);
  room.on('networkQuality', (q) => {
    if (q.peerId !== room?.peerId) return renderPeople();
    const own = $<HTMLElement>('#quality');
    own.dataset.level = worstOf(q) ?? 'unknown';
    own.textContent = `network: send ${q.uplink ?? '–'} · receive ${q.downlink ?? '–'}`;
  });
  room.on('policy', (p) => {
    $<HTMLInputElement>('#policy-locked').checked = p.locked;
    $<HTMLInputElement>('#policy-unmute').checked = p.studentsMayUnmute;
  });
  room.on('moderated', (m) => {
    const what = { muted: 'muted your microphone', stopped: `stopped your ${sourceNames[m.source ?? 'mic']}`, speakAllowed: 'lets you speak', speakRevoked: 'took back your permission to speak' }[m.action];
    const r = room!;
    const mayUnmute = r.role !== 'student' || r.policy?.studentsMayUnmute || r.speakAllowed;
    notice(m.policy ? `You joined muted: ${mayUnmute ? 'unmute when you want to speak' : 'raise your hand to speak'}.` : `The teacher ${what}.`);
    syncButtons();
    renderHands();
  });
  room.on('recording', (r) => {
    if (r.state === 'fileFailed') return notice(`One file of the recording failed (${r.file}): ${r.reason}. The others go on.`);
    const b = $<HTMLButtonElement>('#toggle-record');
    b.setAttribute('aria-pressed', String(r.state === 'started'));
    b.textContent = r.state === 'started' ? 'Stop recording' : 'Record';
    if (r.state === 'failed') showError(`recording failed: ${r.reason ?? 'unknown'}`);
  });
  room.on('removed', (r) => resetPage(`You were removed from the class: ${r.reason}. You may rejoin in ${r.banSeconds} s.`));
  room.on('classEnded', ({ reason }) => resetPage(`The class has ended (${reason}).`));
  room.on('replaced', () => resetPage('You joined this class again from another tab or device; it continues there.'));
  room.on('trackPaused', (t) => setPaused(t, true));
  room.on('trackResumed', (t) => setPaused(t, false));
  room.on('activeSpeaker', (peerId) => {
    for (const tile of grid.querySelectorAll<HTMLElement>('figure.tile')) tile.classList.toggle('speaking', tile.dataset.peerId === peerId);
    for (const li of document.querySelectorAll<HTMLElement>('#people li')) li.classList.toggle('speaking', li.dataset.peerId === peerId);
  });
  room.on('localSourceClosed', (s) => showError(`your ${s} was stopped`));
  room.on('transportPath', () => {
    const r = room!;
    $<HTMLElement>('#path').textContent = `send: ${r.paths.send ?? '…'} · receive: ${r.paths.recv ?? '…'}`;
  });
  room.on('error', (e) => {
    console.warn('classroom:', e.message);
    if ((e as { code?: string }).code === 'relay_unavailable') showError(e);
  });
  await room.join();
  form.hidden = true;
  notice('');
  controls.hidden = false;
  for (const id of ['#toggle-mic', '#toggle-cam', '#toggle-screen']) $<HTMLElement>(id).hidden = role === 'observer';
  teacherControls.hidden = room.role !== 'teacher';
  side.hidden = false;
  for (const m of room.chat) addChat(m);
  renderPeople();
  if (publish && role !== 'observer') {
    await room.publishCamera();
    await room.publishMicrophone();
  }
  syncButtons();
}

form.onsubmit = (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  join(String(data.get('room')), String(data.get('name')), String(data.get('role')), true).catch(showError);
};
for (const source of ['mic', 'cam', 'screen'] as const) toggleButton(source);
$<HTMLButtonElement>('#leave').onclick = async () => {
  await room?.leave();
  resetPage('');
};
$<HTMLButtonElement>('#toggle-hand').onclick = () => {
  const r = room;
  if (!r) return;
  void (r.handRaisedAt !== null ? r.lowerHand() : r.raiseHand()).catch(showError);
};
$<HTMLFormElement>('#chat-form').onsubmit = (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('#chat-form input[name="text"]');
  const text = input.value;
  if (!room || !text.trim()) return;
  room.sendChat(text).then(() => (input.value = ''), showError);
};
$<HTMLInputElement>('#policy-locked').onchange = (ev) => void room?.setRoomPolicy({ locked: (ev.target as HTMLInputElement).checked }).catch(showError);
$<HTMLInputElement>('#policy-unmute').onchange = (ev) => void room?.setRoomPolicy({ studentsMayUnmute: (ev.target as HTMLInputElement).checked }).catch(showError);
$<HTMLButtonElement>('#mute-all').onclick = () => void room?.muteAll().then((n) => notice(`Muted ${n} microphone(s).`), showError);
$<HTMLButtonElement>('#toggle-record').onclick = (ev) => {
  const recording = (ev.target as HTMLElement).getAttribute('aria-pressed') === 'true';
  void (recording ? room?.stopRecording() : room?.startRecording())?.catch(showError);
};
$<HTMLButtonElement>('#end-class').onclick = () => {
  if (confirm('End the class for everyone?')) void room?.endClass().catch(showError);
};

const params = new URLSearchParams(location.search);
for (const key of ['room', 'name', 'role'] as const) {
  const v = params.get(key);
  const input = form.elements.namedItem(key) as HTMLInputElement | HTMLSelectElement | null;
  if (v && input) input.value = v;
}
// A link must not turn a camera on by itself: ?autojoin=1 joins at once only where the server says
// so (SFU_DEMO_AUTOJOIN, for tests and kiosks); elsewhere it fills the form and waits for a click.
if (params.get('autojoin') === '1') {
  const settings = await fetch('demo-settings.json')
    .then((r) => r.json() as Promise<{ autojoin?: boolean }>)
    .catch(() => ({ autojoin: false }));
  if (settings.autojoin === true) {
    join(params.get('room') ?? 'class-1', params.get('name') ?? 'guest', params.get('role') ?? 'student', true).catch(showError);
  } else {
    notice('Press Join to enter the class with your camera and microphone.');
  }
}
