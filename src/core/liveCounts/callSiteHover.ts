// The hover of a traced call site, as Markdown: each session's counts with a "Show in panel" link, then the
// last events' argument values. The only links are to `SHOW_TRACEPOINT_IN_PANEL` with the extension's own
// session id and tool and the call site's tracepoint as arguments; every text from outside (a recording's
// label, field values from the tracee) is escaped, so none of it can become a link or markup.

import { formatSessionTime } from '../../shared/format';
import { markdownCode, markdownText } from '../../shared/untrustedText';
import { countsText, sessionTag, type ArgumentSample, type TracepointActivity } from './tracepointActivity';

/** The one command a call site's hover links to (the hover trusts only it). */
export const SHOW_TRACEPOINT_IN_PANEL = 'bitcoinUsdt.showTracepointInPanel';

/** Events listed in a hover (the newest over all sessions). */
export const HOVER_EVENTS = 5;

/** The arguments of a "Show in panel" link. */
export interface ShowTracepointTarget {
  readonly sessionId: string;
  readonly tool: string;
  readonly tracepoint: string;
}

export function showInPanelLink(target: ShowTracepointTarget): string {
  return `command:${SHOW_TRACEPOINT_IN_PANEL}?${encodeURIComponent(JSON.stringify([target]))}`;
}

/** Null when no session counts the tracepoint. */
export function callSiteHoverMarkdown(tracepoint: string, activity: TracepointActivity): string | null {
  const counts = activity.countsOf(tracepoint);
  if (counts.length === 0) return null;
  const lines = [`**${markdownText(tracepoint)}** · counted in the kernel for the tracepoint (all its call sites together); lost is the session's`, ''];
  for (const session of counts) {
    const link = showInPanelLink({ sessionId: session.session.id, tool: session.session.tool, tracepoint });
    lines.push(`- ${markdownText(sessionTag(session.session))}: ${markdownText(countsText(session))} · [Show in panel](${link})`);
  }
  const samples = activity.recentArguments(tracepoint, HOVER_EVENTS);
  lines.push('');
  if (samples.length === 0) lines.push('No events of it streamed (the tool counts it in the kernel).');
  else {
    lines.push(`**Last ${samples.length === 1 ? 'event' : `${samples.length} events`}**`, '');
    for (const sample of samples) lines.push(`- ${sampleMarkdown(sample, counts.length > 1)}`);
  }
  return lines.join('\n');
}

function sampleMarkdown(sample: ArgumentSample, withSession: boolean): string {
  const parts: string[] = [];
  if (withSession) parts.push(markdownText(sessionTag(sample.session)));
  if (sample.elapsedNs !== null) parts.push(markdownText(formatSessionTime(sample.elapsedNs)));
  const fields = sample.fields.map((field) => `${markdownText(field.name)} ${markdownCode(field.value)}`).join(', ');
  return [...parts, fields].join(' ');
}
