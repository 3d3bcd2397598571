import type { AccessClaims } from '../auth/tokens.js';
import type { RecordingMeta } from './recording.js';

/**
 * Who may read a recording. A room id names a class only while it is open: the same id is reused
 * for later classes, so a recording belongs to the class session it was made in (the Room's
 * `sessionId`), not to the room id. A teacher's token reads a recording of its room when
 * - the token's `owner` claim equals the recording's (the starter's; both absent counts as equal), and
 * - the recording's session is the room's open one (the token's class right now), or the token's
 *   user took part in that session as a teacher (joined it, or started the recording).
 * An admin token reads every recording. Recordings made before sessions existed (no `sessionId`)
 * are the admin's only.
 */
export function denial(claims: AccessClaims, meta: RecordingMeta, openSessionId: string | undefined): string | undefined {
  if (claims.role === 'admin') return undefined;
  if (claims.role !== 'teacher') return 'only a teacher or an admin reads recordings';
  if (claims.room !== meta.room) return `your token is for room ${claims.room}, not ${meta.room}`;
  if ((claims.owner ?? null) !== (meta.owner ?? null)) return 'this recording belongs to another owner';
  if (meta.sessionId !== undefined && (meta.sessionId === openSessionId || meta.teachers?.includes(claims.sub))) return undefined;
  return `this recording is of an earlier class in room ${meta.room}, which you did not teach`;
}
