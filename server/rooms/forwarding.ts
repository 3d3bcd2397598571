import type { types } from 'mediasoup';
import type { ConsumerData } from './appData.js';

/**
 * Whether a consumer's packets leave the server: its client confirmed it (newConsumer answered),
 * did not pause it itself, and, for a video, its view shows it. Audio ignores views.
 */
export function shouldForward(consumer: types.Consumer<ConsumerData>): boolean {
  const d = consumer.appData;
  return d.acked && d.clientPaused !== true && (consumer.kind === 'audio' || d.shown === true);
}

interface Settling {
  again: boolean;
  done: Promise<void>;
}
const settling = new WeakMap<types.Consumer, Settling>();

/**
 * Pauses or resumes the consumer in the worker until its state matches shouldForward. One request
 * at a time per consumer: mediasoup updates `paused` only once the worker answered, so concurrent
 * pause and resume calls could leave it in the state asked first. A call while one runs makes it
 * look again; both resolve once the state is settled. A video resumed is asked for a key frame at
 * once, so that it shows again without waiting for the sender's next one.
 */
export function syncForwarding(consumer: types.Consumer<ConsumerData>): Promise<void> {
  const running = settling.get(consumer);
  if (running) {
    running.again = true;
    return running.done;
  }
  const state: Settling = { again: false, done: Promise.resolve() };
  settling.set(consumer, state);
  state.done = settle(consumer, state);
  return state.done;
}

async function settle(consumer: types.Consumer<ConsumerData>, state: Settling): Promise<void> {
  try {
    do {
      state.again = false;
      if (consumer.closed) return;
      const forward = shouldForward(consumer);
      if (forward !== consumer.paused) continue;
      if (!forward) await consumer.pause();
      else {
        await consumer.resume();
        if (consumer.kind === 'video') await consumer.requestKeyFrame();
      }
    } while (state.again);
  } catch {
    // Closed meanwhile (its transport, its producer): nothing left to settle.
  } finally {
    settling.delete(consumer);
  }
}
