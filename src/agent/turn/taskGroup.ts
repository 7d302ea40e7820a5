// Every task an agent node starts (the STT pump, responses, barge-in pauses, cache prefetch) is added
// here, so the node's run() ends only once all of them have: nothing of a node outlives it, and no
// rejection goes unobserved. Errors are the tasks' own business (each handles its failure); the group
// only waits.
export class TaskGroup {
  private readonly tasks = new Set<Promise<unknown>>();

  track(task: Promise<unknown>): void {
    const t: Promise<void> = task.then(
      () => void this.tasks.delete(t),
      () => void this.tasks.delete(t),
    );
    this.tasks.add(t);
  }

  get size(): number {
    return this.tasks.size;
  }

  /** Resolves once every task, including those started while waiting, has ended. */
  async settle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }
}
