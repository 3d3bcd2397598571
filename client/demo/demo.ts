// The demo page: join a class, see it (a stage and a gallery in pages), publish camera /
// microphone / screen, raise a hand, chat, receive audio only; a teacher also gets the participant
// controls, the hand queue, lock, video limits, record and end class.
// Also accepts /?room=R&name=N&role=ROLE&autojoin=1 to join and publish at once, and for tests
// and benchmarks &tiles=N (gallery tiles per page, default 9), &view=all (report no view: the
// server chooses, as before the gallery), &cam=WxH (the camera's capture size).
import type { ChatMessage } from '../../protocol/schema.js';
import { Classroom, type Source } from '../sdk/index.js';
import { Gallery } from './gallery.js';
import { renderHands, renderPeople, worstOf } from './people.js';
import { $, notice, showError } from './ui.js';
import { followVideoControls, wireVideoControls } from './videoControls.js';

const form = $<HTMLFormElement>('#join');
const stateEl = $<HTMLElement>('#state');
const errorEl = $<HTMLElement>('#error');
const controls = $<HTMLElement>('#controls');
const teacherControls = $<HTMLElement>('#teacher-controls');
const side = $<HTMLElement>('#side');
const params = new URLSearchParams(location.search);
let room: Classroom | undefined;
const gallery = new Gallery(() => room, {
  pageSize: Math.min(50, Math.max(1, Number(params.get('tiles')) || 9)),
  reportView: params.get('view') !== 'all',
});
const nameOf = (peerId: string) => room?.peers.get(peerId)?.name ?? 'guest';

declare global {
  interface Window {
    classroom?: Classroom;
  }
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
  gallery.clear();
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

/** ?cam=WxH: a smaller capture (fewer, smaller layers: cheaper for a test's many pages). */
const camSize = /^(\d+)x(\d+)$/.exec(params.get('cam') ?? '');
const cameraOpts = camSize ? { width: Number(camSize[1]), height: Number(camSize[2]) } : {};

/** The camera, or a clear word why not: beyond the class's camera limit the student still takes part. */
async function publishCamera(r: Classroom): Promise<void> {
  try {
    await r.publishCamera(cameraOpts);
  } catch (err) {
    if ((err as { code?: string }).code !== 'room_full') throw err;
    showError(`Your camera is not on: ${(err as Error).message}`);
  }
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
        await (source === 'cam' ? publishCamera(r) : r.publishMicrophone());
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
  room = new Classroom({ url: '/ws', token, forceRelay: params.get('relay') === '1' });
  window.classroom = room;
  room.on('connectionState', (s) => {
    stateEl.dataset.state = s;
    stateEl.textContent = s;
  });
  const people = () => renderPeople(room);
  room.on('peerJoined', (p) => {
    gallery.tileFor(p.id, p.name);
    people();
  });
  room.on('peerLeft', (id) => {
    gallery.removePeer(id);
    people();
  });
  room.on('peerUpdated', people);
  room.on('track', (t) => {
    gallery.addTrack(t, nameOf(t.peerId));
    people();
  });
  room.on('trackEnded', (t) => {
    gallery.removeTrack(t);
    people();
  });
  room.on('chat', addChat);
  room.on('networkQuality', (q) => {
    if (q.peerId !== room?.peerId) return people();
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
    renderHands(room);
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
  room.on('trackPaused', (t) => gallery.setPaused(t, true, nameOf(t.peerId)));
  room.on('trackResumed', (t) => gallery.setPaused(t, false, nameOf(t.peerId)));
  room.on('activeSpeaker', (peerId) => {
    gallery.speaker(peerId);
    for (const li of document.querySelectorAll<HTMLElement>('#people li')) li.classList.toggle('speaking', li.dataset.peerId === peerId);
  });
  followVideoControls(room);
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
  people();
  gallery.layout();
  if (publish && role !== 'observer') {
    await publishCamera(room);
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
wireVideoControls(() => room);
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
