import type { NextFunction, Request, Response } from 'express';

/**
 * The demo page loads only its own script and style and talks to this server's WebSocket (or, in
 * a cluster, another node's: any ws/wss origin); media elements play MediaStreams. No page may
 * frame it (clickjacking of the camera and moderation buttons).
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every answer; HSTS only when the server itself serves HTTPS. */
export function securityHeaders(tls: boolean) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.set('Content-Security-Policy', contentSecurityPolicy);
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('X-Frame-Options', 'DENY');
    res.set('Referrer-Policy', 'no-referrer');
    if (tls) res.set('Strict-Transport-Security', 'max-age=15552000');
    next();
  };
}
