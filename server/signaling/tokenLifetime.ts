/** How long before its token expires a session is told to send a fresh one. */
export const refreshNoticeMs = 60_000;
/** A fresh token sent in the last moment may still be on its way: the session ends this long after `exp`. */
export const expiryGraceMs = 5000;

/**
 * A session lasts as long as its access token: `expiring` fires a minute before `exp` (halfway when
 * less is left) so the client can send a fresh token, `expired` just after `exp`. `renew` moves both.
 */
export class TokenLifetime {
  private noticeTimer: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;

  constructor(
    expSec: number,
    private readonly on: { expiring: (expiresAt: number) => void; expired: () => void },
  ) {
    this.renew(expSec);
  }

  renew(expSec: number): void {
    this.stop();
    const expiresAt = expSec * 1000;
    const left = expiresAt - Date.now();
    // setTimeout holds at most ~24.8 days; a token living longer is looked at again then.
    const maxDelay = 2 ** 31 - 1;
    if (left > maxDelay) {
      this.endTimer = setTimeout(() => this.renew(expSec), maxDelay).unref();
      return;
    }
    // A minute ahead, or halfway for a short-lived token, so that renewing one does not at once
    // ask for the next.
    this.noticeTimer = setTimeout(() => this.on.expiring(expiresAt), Math.max(0, left - refreshNoticeMs, left / 2)).unref();
    this.endTimer = setTimeout(() => this.on.expired(), Math.max(0, left + expiryGraceMs)).unref();
  }

  stop(): void {
    clearTimeout(this.noticeTimer);
    clearTimeout(this.endTimer);
  }
}
