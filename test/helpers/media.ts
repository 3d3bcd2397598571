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

/** Decodes the whole file (`ffmpeg -v error -i FILE -f null -`): what it printed, and how many video frames. */
export async function decode(file: string): Promise<{ errors: string; videoFrames: number }> {
  const { stdout, stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-progress', 'pipe:1', '-i', file, '-f', 'null', '-']);
  const frames = [...stdout.matchAll(/^frame=(\d+)/gm)].map((m) => Number(m[1]));
  return { errors: stderr.trim(), videoFrames: frames.at(-1) ?? 0 };
}
