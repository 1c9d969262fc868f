import type { DataFrameTimes, WebviewMoment } from '../../src/shared/panelTiming';

function now(): WebviewMoment {
  return { sinceNavigationMs: performance.now(), epochMs: Date.now() };
}

/**
 * Notes when a panel's data reached the screen, for its render report. Create it when the panel's script
 * starts. Call `dataDrawn()` once a message has put data on the page or scheduled its drawing: the next
 * animation frame, after the panel's own callbacks (requested earlier) and a layout, is recorded. One frame
 * request per frame at most, nothing else per message.
 */
export class DataFrameClock {
  private readonly scriptStart = now();
  private first: WebviewMoment | null = null;
  private latest: WebviewMoment | null = null;
  private frameRequested = false;

  dataDrawn(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      void document.body.offsetHeight;
      const moment = now();
      this.first ??= moment;
      this.latest = moment;
    });
  }

  times(): DataFrameTimes {
    const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    return { documentFetchStartMs: navigation?.fetchStart ?? null, scriptStart: this.scriptStart, first: this.first, latest: this.latest };
  }
}
