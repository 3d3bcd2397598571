// The demo page's controls over received video: audio only, and the teacher's video limits.
import type { VideoLimits } from '../../protocol/schema.js';
import type { Classroom } from '../sdk/index.js';
import { $, notice, showError } from './ui.js';

/** Wires the audio-only toggle and the limits form to `room` (the page's current one). */
export function wireVideoControls(room: () => Classroom | undefined): void {
  $<HTMLButtonElement>('#toggle-audio-only').onclick = () => {
    const r = room();
    if (!r) return;
    r.setAudioOnly(!r.audioOnly); // the user's choice wins over the automatic one from now on
    syncAudioOnly(r);
  };
  $<HTMLFormElement>('#video-limits-form').onsubmit = (ev) => {
    ev.preventDefault();
    const maxVideosPerStudent = Number($<HTMLInputElement>('#limit-videos').value);
    const maxStudentCameras = Number($<HTMLInputElement>('#limit-cameras').value);
    void room()?.setVideoLimits({ maxVideosPerStudent, maxStudentCameras }).then((l) => showLimits(l), showError);
  };
}

/** Follows the SDK: the toggle's state, a word when it switched by itself, the limits. */
export function followVideoControls(r: Classroom): void {
  r.on('audioOnly', ({ on, auto }) => {
    syncAudioOnly(r);
    if (auto) notice(on ? 'Your connection is weak: receiving audio only (and screen shares) until it recovers.' : 'Your connection recovered: video is back.');
  });
  r.on('videoLimits', showLimits);
  syncAudioOnly(r);
  if (r.videoLimits) showLimits(r.videoLimits);
}

function syncAudioOnly(r: Classroom): void {
  const b = $<HTMLButtonElement>('#toggle-audio-only');
  b.setAttribute('aria-pressed', String(r.audioOnly));
  b.textContent = r.audioOnly ? 'Receive video' : 'Audio only';
}

function showLimits(l: VideoLimits): void {
  const el = $<HTMLElement>('#video-limits');
  el.dataset.maxVideos = String(l.maxVideosPerStudent);
  el.dataset.maxCameras = String(l.maxStudentCameras);
  el.textContent = `videos per student: ${l.maxVideosPerStudent} · student cameras: ${l.maxStudentCameras}`;
  // Not while the teacher is typing into them.
  for (const [id, v] of [['#limit-videos', l.maxVideosPerStudent], ['#limit-cameras', l.maxStudentCameras]] as const) {
    const input = $<HTMLInputElement>(id);
    if (document.activeElement !== input) input.value = String(v);
  }
}
