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
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name:format=duration', '-of', 'json', file]);
  const json = JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string }[]; format: { duration?: string } };
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
