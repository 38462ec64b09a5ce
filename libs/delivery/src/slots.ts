/**
 * A counting semaphore: at most `size` holders at once; the rest wait, the highest rank first and
 * in arrival order within a rank (a critical send takes the next free provider connection before
 * the normal ones already waiting for it).
 */
export class Slots {
  private free: number;
  private readonly waiting: { rank: number; wake: () => void }[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  async acquire(rank = 0): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else
      await new Promise<void>((wake) => {
        // After the last waiter of a rank at least this high: ranks descending, arrival order kept.
        let at = this.waiting.length;
        while (at > 0 && this.waiting[at - 1]!.rank < rank) at -= 1;
        this.waiting.splice(at, 0, { rank, wake });
      });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.wake();
      else this.free += 1;
    };
  }
}
