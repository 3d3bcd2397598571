import type { types } from 'mediasoup';

export interface SdpStream {
  kind: 'audio' | 'video';
  /** Where ffmpeg listens for RTP; RTCP on port + 1. */
  port: number;
  codec: types.RtpCodecParameters;
}

/**
 * An SDP that tells ffmpeg what arrives on which local port, with the payload types and codec
 * parameters of the consumers that send it (so ffmpeg needs no guessing).
 */
export function buildSdp(streams: SdpStream[]): string {
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=classroom-sfu recording', 'c=IN IP4 127.0.0.1', 't=0 0'];
  for (const { kind, port, codec } of streams) {
    const [, name] = codec.mimeType.split('/');
    const channels = kind === 'audio' && codec.channels ? `/${codec.channels}` : '';
    lines.push(`m=${kind} ${port} RTP/AVP ${codec.payloadType}`);
    lines.push(`a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${channels}`);
    const fmtp = Object.entries(codec.parameters ?? {}).map(([k, v]) => `${k}=${String(v)}`);
    if (fmtp.length > 0) lines.push(`a=fmtp:${codec.payloadType} ${fmtp.join(';')}`);
    lines.push('a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** WebM holds VP8 / VP9 / Opus; anything else (H264) goes into Matroska. Neither re-encodes. */
export function containerFor(codecs: types.RtpCodecParameters[]): { ext: 'webm' | 'mkv'; format: 'webm' | 'matroska' } {
  const webm = codecs.every((c) => /^(video\/vp8|video\/vp9|audio\/opus)$/i.test(c.mimeType));
  return webm ? { ext: 'webm', format: 'webm' } : { ext: 'mkv', format: 'matroska' };
}
