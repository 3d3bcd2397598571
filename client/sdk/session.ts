import { closeCodes } from '../../protocol/schema.js';
import { backoffDelay } from './backoff.js';
import { NodeRoute } from './nodeRoute.js';
import { SignalingError, type SignalingSocket } from '../../protocol/client.js';
import type { ClassroomOptions, ConnectionState, Emit, JoinAnswer, PublishedTrack } from './types.js';

/** What the session asks of the class state and the media around a join, a resume and a rejoin. */
export interface SessionHooks {
  /** A join answer, fresh or resumed: the class as the server has it. */
  accept(answer: JoinAnswer): void;
  /** After a fresh join: the device, the transports, the network reports. */
  startMedia(answer: JoinAnswer): Promise<void>;
  /** Whether media was set up once, so that a resume can keep it. */
  canResume(): boolean;
  /** After a resume: keep the consumers the server still holds, refresh ICE. */
  resumeMedia(consumerIds: string[]): Promise<void>;
  teardownMedia(stopTracks: boolean): void;
  /** Closes our producers, handing back their tracks (to publish again after a rejoin). */
  takeTracks(): PublishedTrack[];
  republish(tracks: PublishedTrack[]): Promise<void>;
}

/**
 * Being in the class: the join (with its retries and a cluster's redirect), and after a dropped
 * socket the reconnect loop, which resumes the session (same peer id) or, when the session is
 * gone, rejoins and publishes the same tracks again.
 */
export class Session {
  private current: ConnectionState = 'new';
  private readonly route: NodeRoute;
  /** What resumes this peer after a dropped socket (from the last join answer). */
  private resumable: { peerId: string; sessionToken: string } | undefined;
  /** We left, were removed, or the class ended: no reconnecting. */
  private leaving = false;
  private reconnectAttempt = 0;
  private reconnecting = false;
  /** join() is running: its own socket closes are not dropped connections. */
  private joining = false;

  constructor(
    private readonly socket: SignalingSocket,
    opts: ClassroomOptions,
    private readonly emit: Emit,
    private readonly hooks: SessionHooks,
  ) {
    this.route = new NodeRoute(socket, opts);
    socket.on('removed', (r) => {
      this.leaving = true; // the socket closes next: do not reconnect
      this.emit('removed', r);
    });
    socket.on('roomClosed', ({ reason, ended }) => {
      if (!ended) return; // a server going away: the reconnect loop handles it
      this.leaving = true;
      this.emit('classEnded', { reason });
    });
    socket.on('close', ({ code, reason }) => this.onSocketClosed(code, reason));
    socket.on('tokenExpiring', ({ expiresAt }) => void this.refreshToken(expiresAt));
    // Closing the tab: say goodbye at once, so that the others do not wait out the resume grace.
    globalThis.addEventListener?.('pagehide', () => {
      if (this.resumable && this.socket.connected) {
        this.leaving = true;
        this.socket.request('leave', {}).catch(() => undefined);
      }
    });
  }

  get state(): ConnectionState {
    return this.current;
  }

  /**
   * The server ends the session when its token expires: hand it a fresh one from the
   * application's token function. A fixed token cannot be renewed; the application hears why.
   */
  private async refreshToken(expiresAt: number): Promise<void> {
    const when = new Date(expiresAt).toISOString();
    if (!this.route.refreshable) {
      this.emit('error', new SignalingError('unauthorized', `the access token expires at ${when} and this session ends then: pass a token function to stay longer`));
      return;
    }
    try {
      await this.socket.request('refreshToken', { token: await this.route.token() });
    } catch (err) {
      this.emit('error', new SignalingError('unauthorized', `could not renew the access token before ${when}: ${(err as Error).message}`));
    }
  }

  get isLeaving(): boolean {
    return this.leaving;
  }

  get serverUrl(): string {
    return this.route.serverUrl;
  }

  async join(): Promise<void> {
    this.leaving = false;
    this.setState('connecting');
    this.joining = true;
    try {
      for (let attempt = 0; ; attempt++) {
        this.route.reset();
        try {
          await this.route.connect();
          await this.joinFresh();
          break;
        } catch (err) {
          this.socket.close(1000, 'join failed');
          if (!this.mayRetryJoin(err, attempt)) throw err;
          this.emit('error', err as Error); // not final: the application may say "still trying"
          this.hooks.teardownMedia(false);
          await new Promise((r) => setTimeout(r, backoffDelay(attempt)));
        }
      }
    } catch (err) {
      this.leaving = true; // not a dropped connection: no reconnecting
      this.stopForGood();
      throw err;
    } finally {
      this.joining = false;
    }
    this.setState('connected');
  }

  /**
   * A first join is tried again (3 times, with backoff) when the server answered but could not
   * take it now (`unavailable`: at capacity, or in a cluster its Redis briefly away), or when the
   * node a redirect named did not answer (it has just died, and the entry does not know yet). Any
   * other failure is final.
   */
  private mayRetryJoin(err: unknown, attempt: number): boolean {
    if (attempt >= 3 || !(err instanceof SignalingError)) return false;
    if (err.code === 'unavailable') return true;
    return this.route.redirected && (err.code === 'disconnected' || err.code === 'timeout' || err.code === 'redirect');
  }

  async leave(): Promise<void> {
    this.leaving = true;
    if (this.socket.connected) await this.socket.request('leave', {}).catch(() => undefined);
    this.socket.close(1000, 'left');
    this.stopForGood();
  }

  private async joinFresh(): Promise<void> {
    const answer = await this.route.requestJoin({});
    this.accept(answer);
    await this.hooks.startMedia(answer);
  }

  private accept(answer: JoinAnswer): void {
    this.resumable = { peerId: answer.peerId, sessionToken: answer.sessionToken };
    this.hooks.accept(answer);
  }

  /** Out of the class for good: no media, no session to resume, no reconnecting. */
  private stopForGood(): void {
    this.hooks.teardownMedia(true);
    this.resumable = undefined;
    this.setState('disconnected');
  }

  // ---- Reconnecting --------------------------------------------------------------------------

  private onSocketClosed(code: number, reason: string): void {
    if (this.reconnecting || this.joining) return;
    if (code === closeCodes.unauthorized || code === closeCodes.replaced || code === closeCodes.removed || code === closeCodes.classEnded) {
      // Retrying cannot help: the token is bad, this session continues in another tab, or the
      // teacher removed us or ended the class.
      this.stopForGood();
      if (code === closeCodes.replaced && !this.leaving) this.emit('replaced', { reason });
      return;
    }
    if (this.leaving) return;
    // The room is gone (its media worker failed, or the server is going down): rejoin afresh, and
    // soon, since the server asked for it; a little jitter spreads a whole class's rejoins.
    const goingAway = code === closeCodes.goingAway;
    if (goingAway) this.resumable = undefined;
    void this.reconnect(goingAway ? 100 + Math.round(200 * Math.random()) : undefined);
  }

  /**
   * Retries with backoff until resumed or rejoined (or left); one loop at a time.
   * `firstDelayMs`: the first attempt's wait, instead of the backoff's (the server said when).
   */
  private async reconnect(firstDelayMs?: number): Promise<void> {
    this.reconnecting = true;
    this.setState('reconnecting');
    try {
      while (!this.leaving) {
        const attempt = this.reconnectAttempt++;
        await new Promise((r) => setTimeout(r, attempt === 0 && firstDelayMs !== undefined ? firstDelayMs : backoffDelay(attempt)));
        if (this.leaving) return;
        try {
          await this.route.connect();
          if (!(await this.tryResume())) await this.rejoin();
          this.reconnectAttempt = 0;
          this.setState('connected');
          return;
        } catch (err) {
          this.emit('error', err as Error);
          if (this.socket.connected) this.socket.close(1000, 'retrying');
          this.route.attemptFailed();
          // Locked, or removed and banned: retrying cannot help.
          if (err instanceof SignalingError && err.code === 'forbidden') {
            this.stopForGood();
            return;
          }
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /** Same peer, same transports: media may never have stopped. Returns false if the session is gone. */
  private async tryResume(): Promise<boolean> {
    if (!this.resumable || !this.hooks.canResume()) return false;
    let answer: JoinAnswer;
    try {
      answer = await this.route.requestJoin({ resume: this.resumable });
    } catch (err) {
      if (err instanceof SignalingError && err.code === 'not_found') return false;
      throw err;
    }
    this.accept(answer);
    await this.hooks.resumeMedia(answer.consumerIds);
    return true;
  }

  /** The session expired or the room was rebuilt: join as new and publish the same tracks again. */
  private async rejoin(): Promise<void> {
    const tracks = this.hooks.takeTracks();
    this.hooks.teardownMedia(false);
    await this.joinFresh();
    await this.hooks.republish(tracks);
  }

  private setState(state: ConnectionState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('connectionState', state);
  }
}
