/**
 * Users the teacher removed, per room, each until a time. The registry owns it, so a ban outlives
 * the Room object (a room that empties and opens again still refuses the removed user).
 */
export class BanList {
  private readonly until = new Map<string, number>();
  /** Told of every ban issued here (not of restored ones): the cluster shares them through Redis. */
  onBan: ((roomId: string, userId: string, ms: number) => void) | undefined;

  ban(roomId: string, userId: string, ms: number): void {
    if (ms <= 0) return;
    this.restore(roomId, userId, ms);
    this.onBan?.(roomId, userId, ms);
  }

  /** A ban issued elsewhere (another node of the cluster): enforced here, not announced again. */
  restore(roomId: string, userId: string, ms: number): void {
    if (ms <= 0) return;
    this.prune();
    const k = key(roomId, userId);
    this.until.set(k, Math.max(this.until.get(k) ?? 0, Date.now() + ms));
  }

  /** Milliseconds the user remains banned from the room; 0 when not banned. */
  remainingMs(roomId: string, userId: string): number {
    const k = key(roomId, userId);
    const until = this.until.get(k);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return left;
    this.until.delete(k);
    return 0;
  }

  get size(): number {
    return this.until.size;
  }

  /** Expired bans go on every new ban, so the map stays as small as the bans in force. */
  private prune(): void {
    const now = Date.now();
    for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
  }
}

const key = (roomId: string, userId: string) => `${roomId}\n${userId}`;
