// Timing that the webviews put in their render reports (test/integration/panelBench.test.ts reads it).

/** A moment in a webview, on two clocks. */
export interface WebviewMoment {
  /** performance.now(): milliseconds since the webview document's time origin (its navigation start). */
  readonly sinceNavigationMs: number;
  /** Date.now(): wall clock, comparable with Date.now() in the extension host on the same machine. */
  readonly epochMs: number;
}

/** When the webview's page loaded, and the animation frames that drew the panel's data. */
export interface DataFrameTimes {
  /**
   * Navigation timing's fetchStart of the document: when its request could leave, after any service worker
   * started (VS Code serves webview pages through one). ms since the time origin; null when not available.
   */
  readonly documentFetchStartMs: number | null;
  /** The panel's script began to run (its own module, after the libraries bundled with it). */
  readonly scriptStart: WebviewMoment;
  /**
   * The first and the latest animation frames that drew the panel's data (a session's rows, runs or
   * messages; not the empty page), each taken after the frame's rendering callbacks and a forced layout.
   */
  readonly first: WebviewMoment | null;
  readonly latest: WebviewMoment | null;
}

/** One update of a panel, timed on the webview's main thread while the host asked for it. */
export interface UpdateTiming {
  /** The message handler(s) of the update (applying it to the page's model). */
  readonly handlerMs: number;
  /** The animation frame's render plus a forced layout (offsetHeight). */
  readonly frameMs: number;
}
