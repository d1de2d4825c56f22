// Fair scheduling of request handling across connections (DESIGN → Relay: "a pipeline can't starve
// other connections"). Each connection still handles its own frames strictly in order; this decides
// when its next frame may start. Work runs in slices of `sliceMs`: while a slice lasts, the connection
// that owns it (or anyone, if nobody is waiting) goes on without yielding; once it is used up, the
// next frame waits in a FIFO and the scheduler hands the next slice to the longest waiter from a
// setImmediate, one per event-loop turn, so HTTP (/healthz, /metrics) and socket I/O are served
// between slices. At most `maxActive` requests are in their handlers at once (handlers awaiting a
// database count).
export class FairScheduler {
  private sliceStart = -Infinity;
  private owner: object | undefined;
  private active = 0;
  private readonly waiting: { owner: object; go: () => void }[] = [];
  private pumpScheduled = false;

  constructor(private readonly sliceMs: number, private readonly maxActive: number) {}

  /** Resolves when `owner` may handle one request; call release() after it. */
  acquire(owner: object): Promise<void> | undefined {
    if (this.active < this.maxActive && performance.now() - this.sliceStart < this.sliceMs && (this.waiting.length === 0 || this.owner === owner)) {
      this.owner = owner;
      this.active++;
      return undefined;
    }
    return new Promise<void>((go) => {
      this.waiting.push({ owner, go });
      this.schedulePump();
    });
  }

  release(): void {
    this.active--;
    if (this.waiting.length) this.schedulePump();
  }

  /** Requests waiting for a slice (for tests and metrics). */
  get queued(): number {
    return this.waiting.length;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (this.active >= this.maxActive) return; // release() pumps again
      const next = this.waiting.shift();
      if (!next) return;
      this.sliceStart = performance.now();
      this.owner = next.owner;
      this.active++;
      next.go();
      if (this.waiting.length) this.schedulePump();
    });
  }
}
