export { Classroom, type ClassroomEvents, type ClassroomOptions, type ConnectionState, type RemoteTrack, type Source } from './classroom.js';
export { SignalingError, SignalingSocket } from '../../protocol/client.js';
export { backoffDelay } from './backoff.js';
