import express, { Router } from 'express';
import { participantClaims, type TokenService } from '../auth/tokens.js';
import { describeIssues } from '../util/issues.js';

/** A development token is for a participant: never `admin`, which reads every room of the server. */
const devTokenRequest = participantClaims.omit({ sub: true }).extend({ userId: participantClaims.shape.sub.optional() }).strict();

/**
 * POST /api/tokens: a token for anyone who asks (development only; off as soon as the platform
 * signs the tokens, see SFU_DEV_TOKENS and config/rules.ts).
 */
export function devTokensApi(tokens: TokenService, enabled: boolean, ttlSec: number): Router {
  const router = Router();
  router.post('/', express.json({ limit: '4kb' }), async (req, res) => {
    if (!enabled) {
      res.status(404).json({ error: { code: 'not_found', message: 'token issuing is disabled (SFU_DEV_TOKENS)' } });
      return;
    }
    const body = devTokenRequest.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: { code: 'bad_request', message: describeIssues(body.error, '(body)') } });
      return;
    }
    const { userId, ...claims } = body.data;
    const token = await tokens.sign({ ...claims, sub: userId ?? `${claims.name}-${crypto.randomUUID().slice(0, 8)}` }, ttlSec);
    res.json({ token });
  });
  return router;
}
