import fs from 'node:fs/promises';
import path from 'node:path';
import { badRequest } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { RecordingMeta } from './recording.js';

export interface Page {
  recordings: RecordingMeta[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Newest first; the id breaks ties, so the order is total and a cursor is exact. */
const before = (a: RecordingMeta, b: RecordingMeta) => (a.startedAt !== b.startedAt ? a.startedAt > b.startedAt : a.id > b.id);

/**
 * Every recording's metadata, in memory and in order: read once from the recordings folder at
 * start, then kept by the service as recordings start and change (a live recording's metadata is
 * the same object its Recording updates). Requests never read the disk.
 */
export class RecordingIndex {
  private readonly byId = new Map<string, RecordingMeta>();
  /** Newest first. */
  private readonly ordered: RecordingMeta[] = [];

  /** The recordings an earlier process left in `dir` (folders without a readable recording.json are skipped). */
  static async load(dir: string, log: Logger): Promise<RecordingIndex> {
    const index = new RecordingIndex();
    const entries = await fs.readdir(dir).catch(() => [] as string[]);
    for (const entry of entries) {
      try {
        const meta = JSON.parse(await fs.readFile(path.join(dir, entry, 'recording.json'), 'utf8')) as RecordingMeta;
        if (typeof meta.id !== 'string' || typeof meta.startedAt !== 'string' || typeof meta.room !== 'string') continue;
        // A recording the previous process did not finish (it crashed or was killed) is not running now.
        if (meta.state === 'recording') Object.assign(meta, { state: 'failed', reason: 'the server stopped during the recording' });
        index.add(meta);
      } catch {
        // not a recording folder
      }
    }
    log.info({ dir, recordings: index.size }, 'recordings indexed');
    return index;
  }

  get size(): number {
    return this.byId.size;
  }

  add(meta: RecordingMeta): void {
    if (this.byId.has(meta.id)) return;
    this.byId.set(meta.id, meta);
    // New recordings are the newest: the search ends at once for them.
    let i = 0;
    while (i < this.ordered.length && before(this.ordered[i]!, meta)) i++;
    this.ordered.splice(i, 0, meta);
  }

  get(id: string): RecordingMeta | undefined {
    return this.byId.get(id);
  }

  /** Every recording `keep` accepts, newest first. */
  all(keep: (m: RecordingMeta) => boolean = () => true): RecordingMeta[] {
    return this.ordered.filter(keep);
  }

  /** Up to `limit` of the recordings `keep` accepts, newest first, from after `cursor`. */
  page(keep: (m: RecordingMeta) => boolean, limit: number, cursor?: string): Page {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const out: RecordingMeta[] = [];
    let more = false;
    for (const m of this.ordered) {
      if (after && !before(after, m)) continue;
      if (!keep(m)) continue;
      if (out.length === limit) {
        more = true;
        break;
      }
      out.push(m);
    }
    return { recordings: out, nextCursor: more ? encodeCursor(out.at(-1)!) : null };
  }
}

/** Opaque to clients: where the previous page ended (start time and id of its last recording). */
function encodeCursor(m: RecordingMeta): string {
  return Buffer.from(JSON.stringify([m.startedAt, m.id])).toString('base64url');
}

function decodeCursor(cursor: string): RecordingMeta {
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof startedAt === 'string' && typeof id === 'string') return { startedAt, id } as RecordingMeta;
  } catch {
    // below
  }
  throw badRequest('cursor is not one this server gave (pass nextCursor from the previous page)');
}
