/** What every page gets and gives back: a root to render into, and a cleanup for its timers and charts. */
export interface PageContext {
  /** The signed-in principal's name as the credential states it (display only). */
  readonly me: string;
}

export type Page = (root: HTMLElement, ctx: PageContext) => () => void;

/** Collects what a page must undo when the user leaves it. */
export class Disposer {
  private readonly fns: (() => void)[] = [];
  add(fn: () => void): void {
    this.fns.push(fn);
  }
  interval(fn: () => void, ms: number): void {
    const id = window.setInterval(fn, ms);
    this.add(() => window.clearInterval(id));
  }
  dispose = (): void => {
    for (const fn of this.fns.splice(0)) fn();
  };
}
