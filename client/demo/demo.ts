// The demo page: join a class, see everyone, publish camera / microphone / screen.
// Also accepts /?room=R&name=N&role=ROLE&autojoin=1 to join and publish at once.
import { Classroom, type RemoteTrack, type Source } from '../sdk/index.js';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>('#join');
const grid = $<HTMLElement>('#grid');
const stateEl = $<HTMLElement>('#state');
const errorEl = $<HTMLElement>('#error');
const controls = $<HTMLElement>('#controls');
let room: Classroom | undefined;

declare global {
  interface Window {
    classroom?: Classroom;
  }
}

function showError(err: unknown): void {
  errorEl.textContent = err instanceof Error ? err.message : String(err);
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

function toggleButton(id: string, source: Source, on: string, off: string): void {
  const button = $<HTMLButtonElement>(id);
  button.onclick = async () => {
    if (!room) return;
    try {
      const pressed = button.getAttribute('aria-pressed') === 'true';
      if (source === 'screen') {
        if (pressed) await room.unpublish('screen');
        else await room.publishScreen();
      } else if (pressed) await room.unmute(source);
      else await room.mute(source);
      button.setAttribute('aria-pressed', String(!pressed));
      button.textContent = pressed ? on : off;
    } catch (err) {
      showError(err);
    }
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
  room.on('peerJoined', (p) => tileFor(p.id, p.name));
  room.on('peerLeft', (id) => grid.querySelector(`figure[data-peer-id="${CSS.escape(id)}"]`)?.remove());
  room.on('track', addTrack);
  room.on('trackEnded', removeTrack);
  room.on('trackPaused', (t) => setPaused(t, true));
  room.on('trackResumed', (t) => setPaused(t, false));
  room.on('activeSpeaker', (peerId) => {
    for (const tile of grid.querySelectorAll<HTMLElement>('figure.tile')) tile.classList.toggle('speaking', tile.dataset.peerId === peerId);
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
  controls.hidden = role === 'observer';
  if (publish && role !== 'observer') {
    await room.publishCamera();
    await room.publishMicrophone();
    const local = $<HTMLVideoElement>('#local-video');
    local.srcObject = new MediaStream([room.localTrack('cam')!]);
    $<HTMLElement>('#local').hidden = false;
  }
}

form.onsubmit = (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  join(String(data.get('room')), String(data.get('name')), String(data.get('role')), true).catch(showError);
};
toggleButton('#toggle-mic', 'mic', 'Mute', 'Unmute');
toggleButton('#toggle-cam', 'cam', 'Stop camera', 'Start camera');
toggleButton('#toggle-screen', 'screen', 'Share screen', 'Stop sharing');
$<HTMLButtonElement>('#leave').onclick = async () => {
  await room?.leave();
  for (const el of grid.querySelectorAll('figure.tile:not(#local)')) el.remove();
  $<HTMLElement>('#local').hidden = true;
  form.hidden = false;
  controls.hidden = true;
};

const params = new URLSearchParams(location.search);
for (const key of ['room', 'name', 'role'] as const) {
  const v = params.get(key);
  const input = form.elements.namedItem(key) as HTMLInputElement | HTMLSelectElement | null;
  if (v && input) input.value = v;
}
if (params.get('autojoin') === '1') {
  join(params.get('room') ?? 'class-1', params.get('name') ?? 'guest', params.get('role') ?? 'student', true).catch(showError);
}
