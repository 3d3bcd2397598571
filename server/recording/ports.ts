import dgram from 'node:dgram';

/**
 * Hands out pairs of local UDP ports (RTP on an even port, RTCP on the next) for ffmpeg to listen
 * on, from a configured range, skipping pairs in use by us or by anyone else on the machine.
 */
export class PortPairs {
  private readonly used = new Set<number>();
  private next: number;

  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    this.next = min + (min % 2);
  }

  async take(): Promise<number> {
    const span = Math.floor((this.max - this.min) / 2);
    for (let i = 0; i < span; i++) {
      const port = this.next;
      this.next = this.next + 2 > this.max - 1 ? this.min + (this.min % 2) : this.next + 2;
      if (this.used.has(port)) continue;
      if ((await free(port)) && (await free(port + 1))) {
        this.used.add(port);
        return port;
      }
    }
    throw new Error(`no free UDP port pair in ${this.min}-${this.max} for recording`);
  }

  /** Pairs handed out and not released. */
  get inUse(): number {
    return this.used.size;
  }

  release(port: number): void {
    this.used.delete(port);
  }
}

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
