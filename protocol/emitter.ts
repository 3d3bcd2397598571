type AnyHandler = (...args: unknown[]) => void;

/** A minimal typed event emitter (browsers have EventTarget, but its typing is clumsy). */
export class Emitter<Events extends Record<string, unknown[]>> {
  private readonly handlers = new Map<keyof Events, Set<AnyHandler>>();

  on<E extends keyof Events>(event: E, fn: (...args: Events[E]) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    const handler = fn as unknown as AnyHandler;
    set.add(handler);
    return () => set.delete(handler);
  }

  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    for (const fn of this.handlers.get(event) ?? []) {
      try {
        fn(...args);
      } catch (err) {
        console.error(`handler for ${String(event)} failed`, err);
      }
    }
  }
}
