import { z } from 'zod';

// The SDK runs on pages with a strict Content-Security-Policy (the demo's has no 'unsafe-eval'):
// zod must not probe for eval (its fast path compiles validators with new Function).
z.config({ jitless: true });

export { Classroom, type AudioOnlyTiming, type ClassroomEvents, type ClassroomOptions, type ConnectionState, type RemoteTrack, type Source } from './classroom.js';
export { SignalingError, SignalingSocket } from '../../protocol/client.js';
export { backoffDelay } from './backoff.js';
