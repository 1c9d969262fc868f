import * as vscode from 'vscode';
import { callSiteHoverMarkdown, SHOW_TRACEPOINT_IN_PANEL } from '../../core/liveCounts/callSiteHover';
import type { TracepointActivity } from '../../core/liveCounts/tracepointActivity';

/** The hover of a traced call site; its Markdown may run exactly one command, the one its links name. */
export function liveCountsHover(tracepoint: string, activity: TracepointActivity): vscode.MarkdownString | null {
  const markdown = callSiteHoverMarkdown(tracepoint, activity);
  if (markdown === null) return null;
  const hover = new vscode.MarkdownString(markdown, false);
  hover.isTrusted = { enabledCommands: [SHOW_TRACEPOINT_IN_PANEL] };
  return hover;
}
