import fs from 'node:fs';
import path from 'node:path';

/**
 * A bounded count of things running at once (ffmpeg processes of every recording of the process):
 * a slot is taken before one starts and given back once it has ended, so the count never
 * understates what runs.
 */
export class Slots {
  private used = 0;

  constructor(readonly max: number) {}

  get inUse(): number {
    return this.used;
  }

  /** False when every slot is taken. */
  take(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }

  release(): void {
    this.used = Math.max(0, this.used - 1);
  }
}

/**
 * Free megabytes (for an unprivileged process) on the file system holding `dir`, read from the
 * nearest folder that exists (the recordings folder is made with the first recording); undefined
 * when it cannot be read at all.
 */
export function freeMegabytes(dir: string): number | undefined {
  let at = path.resolve(dir);
  for (;;) {
    try {
      const s = fs.statfsSync(at);
      return (s.bavail * s.bsize) / 1024 / 1024;
    } catch {
      const up = path.dirname(at);
      if (up === at) return undefined;
      at = up;
    }
  }
}
