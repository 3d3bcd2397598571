import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { roles } from '../../protocol/schema.js';
import { unauthorized } from '../errors.js';
import { describeIssues } from '../util/issues.js';
import { cleanName } from '../util/text.js';

/**
 * What an access token grants: one room, as one user, in one role. `admin` is not a role in a
 * room: it reads every room through the HTTP API and cannot join (its `room` is not used).
 * `owner` (optional: a tenant, school or course your platform names) is stamped on the recordings
 * the token starts, and only a token with the same `owner` reads them.
 */
export const tokenClaims = z.object({
  room: z.string().min(1).max(128).regex(/^[\w.-]+$/, 'letters, digits, _ . -'),
  sub: z.string().min(1).max(128),
  /** Shown to everyone: cleaned of what could fake or hide text (see util/text.ts). */
  name: z.string().min(1).max(64).transform(cleanName).pipe(z.string().min(1, 'a name with visible characters')),
  role: z.enum([...roles, 'admin']),
  owner: z.string().min(1).max(128).optional(),
});
export type AccessClaims = z.infer<typeof tokenClaims>;
/** The claims of a token for a room's participant (no admin). */
export const participantClaims = tokenClaims.extend({ role: z.enum(roles) });
/** The claims of a participant: a role in the room. */
export type TokenClaims = AccessClaims & { role: (typeof roles)[number] };
export const isParticipant = (c: AccessClaims): c is TokenClaims => c.role !== 'admin';

/** Claims a platform may be asked to put in every token (SFU_JWT_ISSUER, SFU_JWT_AUDIENCE). */
export interface TokenScope {
  issuer?: string | undefined;
  audience?: string | undefined;
}

export class TokenService {
  private readonly key: Uint8Array;

  /** No secret: a random one, so tokens die with the process (development only). */
  constructor(
    secret?: string,
    private readonly scope: TokenScope = {},
  ) {
    this.key = secret ? new TextEncoder().encode(secret) : randomBytes(32);
  }

  async sign(claims: AccessClaims, ttlSec: number): Promise<string> {
    const { sub, ...rest } = claims;
    const jwt = new SignJWT(rest)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSec);
    if (this.scope.issuer) jwt.setIssuer(this.scope.issuer);
    if (this.scope.audience) jwt.setAudience(this.scope.audience);
    return jwt.sign(this.key);
  }

  /** Throws AppError('unauthorized') with the reason for a missing, forged, expired or malformed token. */
  async verify(token: string | null | undefined): Promise<AccessClaims & { exp: number }> {
    if (!token) throw unauthorized('missing access token (offer it as the access_token.<JWT> WebSocket subprotocol, or ?token=...)');
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub'],
        ...(this.scope.issuer ? { issuer: this.scope.issuer } : {}),
        ...(this.scope.audience ? { audience: this.scope.audience } : {}),
      });
      const claims = tokenClaims.safeParse(payload);
      if (!claims.success) throw unauthorized(`token claims invalid: ${describeIssues(claims.error, '(claims)')}`);
      return { ...claims.data, exp: payload.exp! };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthorized('access token expired');
      if (err instanceof joseErrors.JOSEError) throw unauthorized(`access token rejected (${err.code})`);
      throw err;
    }
  }
}
