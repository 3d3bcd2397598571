/** A valid Opus producer's RTP parameters, as a browser would send them. */
export function opusRtpParameters(ssrc: number) {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `c${ssrc}`, reducedSize: true },
  };
}

/** A valid VP8 producer's RTP parameters (one encoding). */
export function vp8RtpParameters(ssrc: number) {
  return {
    codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `v${ssrc}`, reducedSize: true },
  };
}

/** VP8 simulcast by SSRC (no rid), one encoding per layer, lowest first: as the load generator publishes. */
export function vp8SimulcastRtpParameters(ssrcs: number[]) {
  return {
    codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
    headerExtensions: [],
    encodings: ssrcs.map((ssrc) => ({ ssrc })),
    rtcp: { cname: `s${ssrcs[0]}`, reducedSize: true },
  };
}
