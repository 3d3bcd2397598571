import type { ClientRequestData } from '../../protocol/schema.js';
import { SignalingError, type SignalingSocket } from '../../protocol/client.js';
import type { ClassroomOptions, JoinAnswer } from './types.js';

/**
 * Which server node to talk to. Alone, the entry URL we were given; in a cluster, the node a
 * redirect named (the origin), with the entry URL as the way back when that node goes away.
 */
export class NodeRoute {
  /** The node a redirect sent us to (undefined: the entry node, opts.url, serves us). */
  private originUrl: string | undefined;
  /** The next reconnect attempt goes to the entry node rather than the origin (they alternate). */
  private viaEntry = false;

  constructor(
    private readonly socket: SignalingSocket,
    private readonly opts: Pick<ClassroomOptions, 'url' | 'token'>,
  ) {}

  /** The node to (re)connect to: the origin a redirect named, or the entry URL we were given. */
  get serverUrl(): string {
    return this.originUrl && !this.viaEntry ? this.originUrl : new URL(this.opts.url, location.href).toString();
  }

  /** Whether a redirect named the node we talk to. */
  get redirected(): boolean {
    return this.originUrl !== undefined;
  }

  /** A first join starts from the entry URL. */
  reset(): void {
    this.originUrl = undefined;
    this.viaEntry = false;
  }

  /**
   * A reconnect attempt failed. The node we were sent to may be gone: the next try goes through
   * the entry URL (which places the class again), the one after to the origin again, and so on.
   */
  attemptFailed(): void {
    if (this.originUrl) this.viaEntry = !this.viaEntry;
  }

  /** Whether a fresh token can be had (the application gave a function, not a string). */
  get refreshable(): boolean {
    return typeof this.opts.token === 'function';
  }

  /** The token to present now: the application's function is asked every time. */
  async token(): Promise<string> {
    return typeof this.opts.token === 'string' ? this.opts.token : await this.opts.token();
  }

  /** Connects to a node (default: the one to talk to now) with a fresh token, presented in the handshake. */
  async connect(base = this.serverUrl): Promise<void> {
    await this.socket.connect(new URL(base, location.href).toString(), await this.token());
  }

  /**
   * Sends `join` and follows a cluster's redirect to the node that serves the class, once: a
   * second redirect (the class moved meanwhile) fails this attempt, and a reconnect starts again
   * from the entry URL.
   */
  async requestJoin(data: ClientRequestData<'join'>): Promise<JoinAnswer> {
    const hopping = data.redirected === true;
    try {
      const answer = await this.socket.request('join', data);
      if (!hopping) this.originUrl = this.viaEntry || !this.originUrl ? undefined : this.originUrl;
      this.viaEntry = false;
      return answer;
    } catch (err) {
      if (!(err instanceof SignalingError) || err.code !== 'redirect' || !err.redirect || hopping) throw err;
      this.originUrl = err.redirect.url;
      this.viaEntry = false;
      await this.socket.switchTo(new URL(err.redirect.url, location.href).toString(), await this.token());
      return this.requestJoin({ ...data, redirected: true });
    }
  }
}
