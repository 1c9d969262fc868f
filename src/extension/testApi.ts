import type { TracepointTreeApi } from './tree/tracepointTreeProvider';
import type { LauncherApi } from './launch/launcherApi';
import type { P2pPanelTestApi } from './panels/p2pPanelController';
import type { RawMessagesPanelTestApi } from './rawMessagesPanel/rawMessagesPanelController';
import type { BenchmarkPanelTestApi } from './benchmarkPanel/benchmarkPanelController';
import type { ToolPanelsTestApi } from './toolPanels/registerToolPanels';
import type { LiveCountsTestApi } from './liveCounts/liveCounts';
import type { NetworkPanelTestApi } from './networkPanel/networkPanelController';
import type { TraceThisApi } from './traceThis/registerTraceThis';
import type { FunctionalTestApi } from './functionalTest/registerFunctionalTest';

/**
 * What `activate` returns: a small typed surface that integration tests (and other extensions)
 * use to observe the extension. Each feature fills in its own field from its register function.
 */
export interface ExtensionApi {
  tracepointTree?: TracepointTreeApi;
  p2pPanel?: P2pPanelTestApi;
  launcher?: LauncherApi;
  rawMessagesPanel?: RawMessagesPanelTestApi;
  benchmarkPanel?: BenchmarkPanelTestApi;
  toolPanels?: ToolPanelsTestApi;
  liveCounts?: LiveCountsTestApi;
  networkPanel?: NetworkPanelTestApi;
  traceThis?: TraceThisApi;
  functionalTest?: FunctionalTestApi;
}
