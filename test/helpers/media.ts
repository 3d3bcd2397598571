import { execFile } from 'node:child_process';

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }),
    ),
  );
}

/** ffprobe's view of a media file: its streams' types and codecs, and the duration. */
export async function probe(file: string): Promise<{ streams: { type: string; codec: string }[]; durationSec: number }> {
  const { stdout, stderr, code } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name:format=duration', '-of', 'json', file]);
  const json = JSON.parse(stdout || '{}') as { streams?: { codec_type: string; codec_name: string }[]; format?: { duration?: string } };
  if (!json.streams || !json.format) throw new Error(`ffprobe read no streams from ${file} (exit ${code}): ${stderr.trim() || 'no message'}`);
  return { streams: json.streams.map((s) => ({ type: s.codec_type, codec: s.codec_name })), durationSec: Number(json.format.duration ?? 0) };
}

/**
 * Decodes the whole file (`ffmpeg -v error -i FILE -f null -`): what it printed, and how many video
 * frames. `sameTimeFrames` counts frames that share a millisecond with the one before: after a
 * simulcast layer switch mediasoup may send a frame one RTP tick (11 µs) after the previous one,
 * which WebM's millisecond timestamps cannot tell apart. The frames decode; only ffmpeg's output
 * stage complains ("non monotonically increasing dts"), so those lines are counted, not errors.
 */
export async function decode(file: string): Promise<{ errors: string; videoFrames: number; sameTimeFrames: number }> {
  const { stdout, stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-progress', 'pipe:1', '-i', file, '-f', 'null', '-']);
  const frames = [...stdout.matchAll(/^frame=(\d+)/gm)].map((m) => Number(m[1]));
  const lines = stderr.trim().split('\n').filter((l) => l !== '');
  const sameTime = (l: string) => /non monotonically increasing dts to muxer in stream \d+: (\d+) >= \1$/.test(l);
  return { errors: lines.filter((l) => !sameTime(l)).join('\n'), videoFrames: frames.at(-1) ?? 0, sameTimeFrames: lines.filter(sameTime).length };
}

/**
 * A speech-like microphone signal (an ffmpeg aevalsrc expression): two tones whose loudness swings
 * between nothing and about -5 dBFS four times a second, over a faint noise floor, as speech rises
 * and falls. (A steady tone works too, but the active-speaker observer takes the quietest level a
 * speaker sends as its noise floor, re-estimated every 15 s, and only counts what rises above it: a
 * signal with pauses is what it is made for.)
 */
export const speechLikeSignal = '0.6*sin(2*PI*220*t)*abs(sin(2*PI*2*t))+0.2*sin(2*PI*660*t)*abs(sin(2*PI*2*t))+0.003*(2*random(0)-1)';

/** Writes 30 s of mono 16-bit WAV from an ffmpeg lavfi source, for --use-file-for-fake-audio-capture. */
export async function makeWav(file: string, source: string): Promise<void> {
  const { code, stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-t', '30', '-ac', '1', '-c:a', 'pcm_s16le', file]);
  if (code !== 0) throw new Error(`ffmpeg could not write ${file}: ${stderr.trim()}`);
}
