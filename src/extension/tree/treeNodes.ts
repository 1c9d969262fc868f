import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  SEMAPHORE_NOTE,
  describeInterfaceMismatches,
  formatAddress,
  type CatalogMatch,
  type MatchedTracepoint,
} from '../../core/catalog/catalogMatch';
import {
  CONTEXT_DOCS,
  findContextDoc,
  type ContextDoc,
  type TracepointArgDoc,
  type TracepointDoc,
} from '../../core/catalog/tracepointCatalog';
import type { ArgShapeMismatch } from '../../core/catalog/interfaceCheck';
import { describeShape } from '../../core/catalog/interfaceCheck';
import { describeOperand, type ArgSpec } from '../../core/elf/argSpec';
import { describeClientVersion } from '../../core/elf/clientVersion';
import type { StapsdtNote, StapsdtReport } from '../../core/elf/stapsdtNotes';
import { toolsAvailableFor, type ToolAvailability } from '../../core/tools/toolCatalog';
import type { DiscoveredBinary } from '../binaries/binaryRegistry';
import type { TreeNodeTarget } from '../services';
import type { BinaryInspection } from './binaryInspection';
import { markdownCode, markdownText } from '../../shared/untrustedText';

export const CONTEXT_VALUES = {
  binary: 'bitcoinUsdt.binary',
  addedBinary: 'bitcoinUsdt.binary.added',
  context: 'bitcoinUsdt.context',
  tracepoint: 'bitcoinUsdt.tracepoint',
  undocumentedTracepoint: 'bitcoinUsdt.tracepoint.undocumented',
  argument: 'bitcoinUsdt.argument',
  missingGroup: 'bitcoinUsdt.missing',
  missingTracepoint: 'bitcoinUsdt.missingTracepoint',
  message: 'bitcoinUsdt.message',
  probeTools: 'bitcoinUsdt.probeTools',
  probeTool: 'bitcoinUsdt.probeTool',
  unavailableProbeTool: 'bitcoinUsdt.probeTool.unavailable',
} as const;

const WARNING_COLOR = new vscode.ThemeColor('list.warningForeground');
const ERROR_COLOR = new vscode.ThemeColor('list.errorForeground');
const DISABLED_COLOR = new vscode.ThemeColor('disabledForeground');

/** One node of the tracepoint tree; handed to commands as their argument. */
export abstract class TracepointTreeNode implements TreeNodeTarget {
  abstract readonly id: string;
  abstract readonly binaryPath: string;
  /** "context:event", on tracepoint and argument nodes. */
  declare readonly tracepoint?: string;
  /** On context nodes. */
  declare readonly context?: string;
  /** On the entries of "Probe tools": the tool id Start probe… runs (its picker is skipped). */
  declare readonly probeTool?: string;
  /** Undefined on binary nodes, the roots. */
  declare readonly parent?: TracepointTreeNode;
  abstract toTreeItem(): vscode.TreeItem;

  getChildren(): TracepointTreeNode[] {
    return [];
  }

  protected item(label: string, collapsible: vscode.TreeItemCollapsibleState): vscode.TreeItem {
    const item = new vscode.TreeItem(label, collapsible);
    item.id = this.id;
    return item;
  }
}

export class BinaryNode extends TracepointTreeNode {
  readonly id: string;
  readonly binaryPath: string;
  private readonly expandedByDefault: boolean;

  constructor(
    readonly binary: DiscoveredBinary,
    readonly inspection: BinaryInspection,
    onlyBinary: boolean,
  ) {
    super();
    // A problem is shown expanded so its message is seen without a click.
    this.expandedByDefault = onlyBinary || inspection.kind === 'failed' || inspection.match.noUsdtMessage !== null;
    this.binaryPath = binary.path;
    this.id = `binary:${binary.path}`;
  }

  override getChildren(): TracepointTreeNode[] {
    const inspection = this.inspection;
    if (inspection.kind === 'failed') {
      return [new MessageNode(this, this.binaryPath, 'error', inspection.message, inspection.code)];
    }
    const { match } = inspection;
    const tools = new ProbeToolsNode(this, this.binaryPath, toolsAvailableFor(match.tracepoints.map((tracepoint) => tracepoint.id)));
    if (match.noUsdtMessage !== null) {
      return [new MessageNode(this, this.binaryPath, 'warning', match.noUsdtMessage, 'NO_USDT'), tools];
    }
    const children: TracepointTreeNode[] = groupByContext(match.tracepoints).map(
      ({ context, tracepoints }) => new ContextNode(this, this.binaryPath, context, tracepoints),
    );
    if (!match.isBitcoinCore) {
      const message = `${this.binaryPath} has USDT tracepoints, but none of Bitcoin Core's: is it bitcoind?`;
      children.unshift(new MessageNode(this, this.binaryPath, 'warning', message, 'NOT_BITCOIN_CORE'));
    } else if (match.missing.length > 0) {
      children.push(new MissingGroupNode(this, this.binaryPath, match));
    }
    children.push(tools);
    return children;
  }

  toTreeItem(): vscode.TreeItem {
    const item = this.item(path.basename(this.binaryPath), this.expandedByDefault ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    item.contextValue = this.binary.origin === 'added' ? CONTEXT_VALUES.addedBinary : CONTEXT_VALUES.binary;
    const location = path.dirname(vscode.workspace.asRelativePath(this.binaryPath, (vscode.workspace.workspaceFolders?.length ?? 0) > 1));
    const inspection = this.inspection;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${markdownText(this.binaryPath)}**\n\n`);
    tooltip.appendMarkdown(`${originText(this.binary)}\n\n`);
    if (inspection.kind === 'failed') {
      item.description = `${location} · ${failureSummary(inspection.code)}`;
      item.iconPath = new vscode.ThemeIcon('error', ERROR_COLOR);
      tooltip.appendMarkdown(`$(error) ${markdownText(inspection.message)}`);
    } else {
      const { match, report } = inspection;
      tooltip.appendMarkdown(`${elfSummary(report)}\n\n`);
      if (match.noUsdtMessage !== null) {
        item.description = `${location} · no USDT tracepoints`;
        item.iconPath = new vscode.ThemeIcon('warning', WARNING_COLOR);
        tooltip.appendMarkdown(`$(warning) ${markdownText(match.noUsdtMessage)}`);
      } else {
        const version = match.clientVersion ? ` · ${match.clientVersion.text.replace(/-g([0-9a-f]{12})[0-9a-f]*$/, '-g$1')}` : match.minimumVersion ? ` · ${match.minimumVersion}+` : '';
        const mismatches = match.tracepoints.filter((tracepoint) => tracepoint.interfaceMismatch !== null).length;
        item.description = `${location} · ${countText(match.tracepoints.length, 'tracepoint')}${version}${mismatches > 0 ? ` · ${mismatches} interface mismatch${mismatches === 1 ? '' : 'es'}` : ''}`;
        item.iconPath = new vscode.ThemeIcon('file-binary');
        appendBinaryMatch(tooltip, match);
      }
    }
    item.tooltip = tooltip;
    item.resourceUri = vscode.Uri.file(this.binaryPath);
    return item;
  }
}

export class ContextNode extends TracepointTreeNode {
  readonly id: string;
  private readonly doc: ContextDoc | undefined;

  constructor(
    override readonly parent: TracepointTreeNode,
    readonly binaryPath: string,
    override readonly context: string,
    private readonly tracepoints: readonly MatchedTracepoint[],
  ) {
    super();
    this.id = `${parent.id}/context:${context}`;
    this.doc = findContextDoc(context);
  }

  override getChildren(): TracepointTreeNode[] {
    return this.tracepoints.map((tracepoint) => new TracepointNode(this, this.binaryPath, tracepoint));
  }

  toTreeItem(): vscode.TreeItem {
    const item = this.item(this.context, vscode.TreeItemCollapsibleState.Collapsed);
    item.contextValue = CONTEXT_VALUES.context;
    const tooltip = new vscode.MarkdownString(undefined, true);
    if (this.doc) {
      item.description = `${this.doc.title} · ${this.tracepoints.length}`;
      item.iconPath = new vscode.ThemeIcon('symbol-namespace');
      tooltip.appendMarkdown(`**${markdownText(this.context)}**: ${markdownText(this.doc.title)}\n\n`);
      tooltip.appendMarkdown(`${markdownText(this.doc.description)}\n\n`);
      tooltip.appendMarkdown(`Added in ${this.doc.versions.join(', ')}. ${countText(this.tracepoints.length, 'tracepoint')} in this binary.`);
    } else {
      item.description = `undocumented provider · ${this.tracepoints.length}`;
      item.iconPath = new vscode.ThemeIcon('warning', WARNING_COLOR);
      tooltip.appendMarkdown(`**${markdownText(this.context)}**: not a Bitcoin Core tracepoint context\n\n`);
      tooltip.appendMarkdown(`${countText(this.tracepoints.length, 'tracepoint')} of this provider are in the binary but not in the documentation.`);
    }
    item.tooltip = tooltip;
    return item;
  }
}

export class TracepointNode extends TracepointTreeNode {
  readonly id: string;
  /** "context:event" */
  override readonly tracepoint: string;

  constructor(
    override readonly parent: TracepointTreeNode,
    readonly binaryPath: string,
    readonly matched: MatchedTracepoint,
  ) {
    super();
    this.tracepoint = matched.id;
    this.id = `${parent.id}/tracepoint:${matched.name}`;
  }

  override getChildren(): TracepointTreeNode[] {
    const specs = this.matched.notes[0]?.args ?? [];
    const docs = this.matched.doc?.args ?? [];
    const count = Math.max(specs.length, docs.length);
    return Array.from({ length: count }, (_, index) =>
      new ArgumentNode(this, this.binaryPath, this.tracepoint, index, docs[index], specs[index],
        this.matched.interfaceMismatch?.args.find((mismatch) => mismatch.index === index)));
  }

  toTreeItem(): vscode.TreeItem {
    const { matched } = this;
    const hasArguments = (matched.notes[0]?.args.length ?? 0) > 0 || (matched.doc?.args.length ?? 0) > 0;
    const item = this.item(matched.name, hasArguments ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    const mismatches = describeInterfaceMismatches(matched);
    const mismatch = mismatches.length > 0;
    const descriptionParts: string[] = [];
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${markdownText(matched.id)}**`);
    if (matched.doc) {
      item.contextValue = CONTEXT_VALUES.tracepoint;
      item.iconPath = mismatch ? new vscode.ThemeIcon('warning', WARNING_COLOR) : new vscode.ThemeIcon('symbol-event');
      descriptionParts.push(matched.doc.versionAdded);
      tooltip.appendMarkdown(` · added in ${matched.doc.versionAdded}\n\n${markdownText(matched.doc.description)}\n\n`);
    } else {
      item.contextValue = CONTEXT_VALUES.undocumentedTracepoint;
      item.iconPath = new vscode.ThemeIcon('warning', WARNING_COLOR);
      descriptionParts.push('undocumented');
      tooltip.appendMarkdown(`\n\n$(warning) **Undocumented**: in this binary, but not a documented Bitcoin Core tracepoint.\n\n`);
    }
    if (mismatch) {
      descriptionParts.push(matched.interfaceMismatch?.count ? 'argument count differs' : 'argument types differ');
      tooltip.appendMarkdown(`$(warning) **Interface differs from the catalog for this build's version**:\n\n${mismatches.map((line) => `- ${markdownText(line)}`).join('\n')}\n\n`);
    }
    if (matched.notes.length > 1) descriptionParts.push(`${matched.notes.length} call sites`);
    if (matched.hasSemaphore) descriptionParts.push('semaphore');
    item.description = descriptionParts.join(' · ');
    appendNotes(tooltip, matched.notes);
    if (matched.doc && matched.doc.caveats.length > 0) {
      tooltip.appendMarkdown(`\n\n**Caveats**\n\n${matched.doc.caveats.map((caveat) => `- ${markdownText(caveat)}`).join('\n')}`);
    }
    if (matched.doc && matched.doc.changes.length > 0) {
      tooltip.appendMarkdown(`\n\n**Changes**\n\n${matched.doc.changes.map((change) => `- ${change.since}: ${markdownText(change.change)}`).join('\n')}`);
    }
    item.tooltip = tooltip;
    return item;
  }
}

export class ArgumentNode extends TracepointTreeNode {
  readonly id: string;

  constructor(
    override readonly parent: TracepointTreeNode,
    readonly binaryPath: string,
    /** "context:event" */
    override readonly tracepoint: string,
    readonly index: number,
    readonly doc: TracepointArgDoc | undefined,
    readonly spec: ArgSpec | undefined,
    /** How this argument's size or sign differs from the catalog for the build's version. */
    readonly mismatch?: ArgShapeMismatch,
  ) {
    super();
    this.id = `${parent.id}/arg:${index}`;
  }

  toTreeItem(): vscode.TreeItem {
    const { doc, spec, index } = this;
    const item = this.item(doc ? doc.field : `arg${index}`, vscode.TreeItemCollapsibleState.None);
    item.contextValue = CONTEXT_VALUES.argument;
    const parts = [`arg${index}`];
    if (doc) parts.push(doc.cType);
    else if (spec) parts.push(specType(spec));
    if (this.mismatch) parts.push(`differs: ${this.mismatch.actual.map(describeShape).join(' / ')}, documented ${this.mismatch.expected.map(describeShape).join(' or ')}`);
    parts.push(spec ? spec.raw : 'not passed by this binary');
    item.description = parts.join(' · ');
    item.iconPath = doc && spec && !this.mismatch ? new vscode.ThemeIcon('symbol-field') : new vscode.ThemeIcon('symbol-field', WARNING_COLOR);
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**arg${index}**${doc ? ` · ${markdownCode(doc.field)} · ${markdownCode(doc.cType)}` : ''}\n\n`);
    if (doc) {
      tooltip.appendMarkdown(`${markdownText(doc.meaning)}\n\n`);
      if (doc.units) tooltip.appendMarkdown(`Units: ${markdownText(doc.units)}\n\n`);
      if (doc.limits) tooltip.appendMarkdown(`Limits: ${markdownText(doc.limits)}\n\n`);
      if (doc.rawToolOnly) tooltip.appendMarkdown('Read only by raw tools (not part of the normal event stream).\n\n');
      if (doc.notInOlderReleases) tooltip.appendMarkdown(`${markdownText(doc.notInOlderReleases)}\n\n`);
      if (doc.olderCType) tooltip.appendMarkdown(`Before ${doc.olderCType.before}: ${markdownText(doc.olderCType.note)}\n\n`);
      if (this.mismatch) {
        tooltip.appendMarkdown(`$(warning) This build passes ${this.mismatch.actual.map(describeShape).join(' / ')}; the catalog documents ` +
          `${this.mismatch.expected.map(describeShape).join(' or ')} for its version.\n\n`);
      }
    } else {
      tooltip.appendMarkdown('$(warning) Not in the documentation of this tracepoint.\n\n');
    }
    if (spec) {
      tooltip.appendMarkdown(`Raw spec ${markdownCode(spec.raw)}: ${specType(spec)} in ${markdownCode(describeOperand(spec.operand))}`);
    } else {
      tooltip.appendMarkdown('$(warning) This binary does not pass this argument.');
    }
    item.tooltip = tooltip;
    return item;
  }
}

export class MissingGroupNode extends TracepointTreeNode {
  readonly id: string;

  constructor(
    override readonly parent: TracepointTreeNode,
    readonly binaryPath: string,
    private readonly match: CatalogMatch,
  ) {
    super();
    this.id = `${parent.id}/missing`;
  }

  override getChildren(): TracepointTreeNode[] {
    return this.match.missing.map((doc) => new MissingTracepointNode(this, this.binaryPath, doc));
  }

  toTreeItem(): vscode.TreeItem {
    const item = this.item('Missing', vscode.TreeItemCollapsibleState.Collapsed);
    item.contextValue = CONTEXT_VALUES.missingGroup;
    item.description = `${countText(this.match.missing.length, 'documented tracepoint')} not in this binary`;
    item.iconPath = new vscode.ThemeIcon('circle-slash', DISABLED_COLOR);
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown('Documented Bitcoin Core tracepoints this binary does not have: it is older than the release that added them');
    const hints = this.match.missingContexts
      .map((context) => findContextDoc(context))
      .filter((doc): doc is ContextDoc => doc?.absentHint !== undefined);
    if (hints.length > 0) tooltip.appendMarkdown(`, or ${hints.map((doc) => `${markdownText(doc.context)}: ${markdownText(doc.absentHint ?? '')}`).join('; ')}`);
    tooltip.appendMarkdown('.');
    item.tooltip = tooltip;
    return item;
  }
}

export class MissingTracepointNode extends TracepointTreeNode {
  readonly id: string;

  constructor(
    override readonly parent: TracepointTreeNode,
    readonly binaryPath: string,
    readonly doc: TracepointDoc,
  ) {
    super();
    this.id = `${parent.id}/${doc.id}`;
  }

  toTreeItem(): vscode.TreeItem {
    const item = this.item(this.doc.id, vscode.TreeItemCollapsibleState.None);
    item.contextValue = CONTEXT_VALUES.missingTracepoint;
    item.description = `added in ${this.doc.versionAdded}`;
    item.iconPath = new vscode.ThemeIcon('circle-outline', DISABLED_COLOR);
    item.tooltip = new vscode.MarkdownString(
      `**${markdownText(this.doc.id)}** · added in ${this.doc.versionAdded} · not in this binary\n\n${markdownText(this.doc.description)}`,
      true,
    );
    return item;
  }
}

/** "Probe tools": every probe tool, and whether this binary has the tracepoints it needs. */
export class ProbeToolsNode extends TracepointTreeNode {
  readonly id: string;

  constructor(
    override readonly parent: TracepointTreeNode,
    readonly binaryPath: string,
    readonly tools: readonly ToolAvailability[],
  ) {
    super();
    this.id = `${parent.id}/probe-tools`;
  }

  override getChildren(): TracepointTreeNode[] {
    // Available tools first, each group in catalog order.
    const ordered = [...this.tools.filter((t) => t.available), ...this.tools.filter((t) => !t.available)];
    return ordered.map((availability) => new ProbeToolNode(this, this.binaryPath, availability));
  }

  toTreeItem(): vscode.TreeItem {
    const item = this.item('Probe tools', vscode.TreeItemCollapsibleState.Collapsed);
    item.contextValue = CONTEXT_VALUES.probeTools;
    const available = this.tools.filter((t) => t.available).length;
    item.description = `${available} of ${this.tools.length} available`;
    item.iconPath = new vscode.ThemeIcon('tools');
    item.tooltip = new vscode.MarkdownString(
      `**Probe tools** for ${markdownText(path.basename(this.binaryPath))}: ${available} of ${this.tools.length} can run against this binary ` +
        '(each needs all of its tracepoints). Start one with its $(play) button.',
      true,
    );
    return item;
  }
}

/** One probe tool: startable (inline $(play)) when the binary has its tracepoints, else greyed with the reason. */
export class ProbeToolNode extends TracepointTreeNode {
  readonly id: string;
  override readonly probeTool: string;

  constructor(
    override readonly parent: TracepointTreeNode,
    readonly binaryPath: string,
    readonly availability: ToolAvailability,
  ) {
    super();
    this.probeTool = availability.tool.id;
    this.id = `${parent.id}/${availability.tool.id}`;
  }

  toTreeItem(): vscode.TreeItem {
    const { tool, available, reason } = this.availability;
    const item = this.item(tool.id, vscode.TreeItemCollapsibleState.None);
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${markdownText(tool.title)}** · ${markdownCode(tool.id)}\n\n${markdownText(tool.description)}\n\n`);
    tooltip.appendMarkdown(`Tracepoints: ${tool.tracepoints.map((t) => markdownCode(t)).join(', ')}\n\n`);
    if (tool.parameters.length > 0) {
      tooltip.appendMarkdown(`Parameters (asked when it starts): ${tool.parameters.map((p) => `${markdownCode(p.name)}: ${markdownText(p.description)}`).join(' · ')}\n\n`);
    }
    if (available) {
      item.contextValue = CONTEXT_VALUES.probeTool;
      item.description = tool.title;
      item.iconPath = new vscode.ThemeIcon('symbol-event');
      tooltip.appendMarkdown('$(play) Start probe with this tool.');
    } else {
      item.contextValue = CONTEXT_VALUES.unavailableProbeTool;
      item.description = `unavailable: ${reason ?? 'this binary lacks its tracepoints'}`;
      item.iconPath = new vscode.ThemeIcon('circle-slash', DISABLED_COLOR);
      tooltip.appendMarkdown(`$(circle-slash) **Unavailable**: ${markdownText(reason ?? 'this binary lacks its tracepoints')}.`);
    }
    item.tooltip = tooltip;
    return item;
  }
}

/** A problem shown in place of a binary's tracepoints: missing file, not an ELF, no USDT. */
export class MessageNode extends TracepointTreeNode {
  readonly id: string;

  constructor(
    override readonly parent: TracepointTreeNode,
    readonly binaryPath: string,
    readonly severity: 'error' | 'warning',
    readonly message: string,
    readonly code: string,
  ) {
    super();
    this.id = `${parent.id}/message`;
  }

  toTreeItem(): vscode.TreeItem {
    // The binary's node above already says which file: name it briefly here, fully in the tooltip.
    const item = this.item(this.message.split(this.binaryPath).join(path.basename(this.binaryPath)), vscode.TreeItemCollapsibleState.None);
    item.contextValue = CONTEXT_VALUES.message;
    item.iconPath = this.severity === 'error' ? new vscode.ThemeIcon('error', ERROR_COLOR) : new vscode.ThemeIcon('warning', WARNING_COLOR);
    item.tooltip = new vscode.MarkdownString(markdownText(this.message), true);
    return item;
  }
}

const CONTEXT_ORDER: readonly string[] = CONTEXT_DOCS.map((doc) => doc.context);

/** Documented contexts in catalog order, then undocumented providers by name. */
function groupByContext(tracepoints: readonly MatchedTracepoint[]): { context: string; tracepoints: MatchedTracepoint[] }[] {
  const groups = new Map<string, MatchedTracepoint[]>();
  for (const tracepoint of tracepoints) {
    const group = groups.get(tracepoint.provider);
    if (group) group.push(tracepoint);
    else groups.set(tracepoint.provider, [tracepoint]);
  }
  const rank = (context: string): number => {
    const position = CONTEXT_ORDER.indexOf(context);
    return position === -1 ? CONTEXT_ORDER.length : position;
  };
  return [...groups.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([context, group]) => ({ context, tracepoints: group }));
}

function originText(binary: DiscoveredBinary): string {
  switch (binary.origin) {
    case 'workspace':
      return `Found in the workspace folder ${markdownText(binary.folderName ?? '')}.`;
    case 'setting':
      return 'Listed in the setting `bitcoinUsdt.bitcoindPaths`.';
    case 'added':
      return 'Added with "Add bitcoind binary…".';
  }
}

function failureSummary(code: string): string {
  switch (code) {
    case 'NOT_FOUND':
      return 'not found';
    case 'NOT_A_FILE':
      return 'not a file';
    case 'PERMISSION':
      return 'permission denied';
    case 'NOT_ELF':
      return 'not an ELF file';
    case 'TRUNCATED':
      return 'incomplete file';
    case 'MALFORMED':
      return 'damaged ELF file';
    default:
      return 'cannot be read';
  }
}

function elfSummary(report: StapsdtReport): string {
  const { elf } = report;
  return `ELF${elf.elfClass} ${markdownText(elf.machine)}, ${elf.endianness}-endian, ${elf.type} · ${formatBytes(report.fileSize)}`;
}

function appendBinaryMatch(tooltip: vscode.MarkdownString, match: CatalogMatch): void {
  const documented = match.tracepoints.filter((tracepoint) => tracepoint.status === 'documented').length;
  const undocumented = match.tracepoints.length - documented;
  tooltip.appendMarkdown(
    `**${countText(match.tracepoints.length, 'tracepoint')}** (${documented} documented${undocumented > 0 ? `, ${undocumented} undocumented` : ''}) ` +
      `at ${countText(match.noteCount, 'call site')}`,
  );
  if (match.clientVersion) {
    tooltip.appendMarkdown(` · Bitcoin Core ${markdownText(describeClientVersion(match.clientVersion))} (CLIENT_BUILD ${markdownCode(match.clientVersion.text)} in .rodata)`);
  } else if (match.minimumVersion) tooltip.appendMarkdown(` · built from Bitcoin Core ${match.minimumVersion} or later`);
  tooltip.appendMarkdown('\n\n');
  tooltip.appendMarkdown(
    match.usesSemaphores
      ? `Semaphores: yes. ${markdownText(SEMAPHORE_NOTE.charAt(0).toUpperCase() + SEMAPHORE_NOTE.slice(1))}\n\n`
      : 'Semaphores: no (TRACEx macros, v22–v28): arguments are computed even when nobody traces.\n\n',
  );
  if (match.missing.length > 0 && match.isBitcoinCore) {
    tooltip.appendMarkdown(`**Missing** (documented, not in this binary): ${match.missing.map((doc) => `${markdownText(doc.id)} (${doc.versionAdded})`).join(', ')}`);
  }
}

function appendNotes(tooltip: vscode.MarkdownString, notes: readonly StapsdtNote[]): void {
  const semaphore = notes.find((note) => note.semaphore !== null && note.semaphore !== 0n);
  if (semaphore?.semaphore != null) {
    const offset = semaphore.semaphoreFileOffset === null ? 'unknown' : formatAddress(semaphore.semaphoreFileOffset);
    tooltip.appendMarkdown(`Semaphore at ${markdownCode(formatAddress(semaphore.semaphore))} (file offset ${markdownCode(offset)}): fires only while a tracer is attached.\n\n`);
  } else {
    tooltip.appendMarkdown('No semaphore: always armed.\n\n');
  }
  tooltip.appendMarkdown(
    `${countText(notes.length, 'call site')} in the binary: ${notes.map((note) => markdownCode(formatAddress(note.address))).join(', ')}\n\n`,
  );
  const first = notes[0];
  if (first && first.arguments !== '') tooltip.appendMarkdown(`Arguments: ${markdownCode(first.arguments)}`);
}

function specType(spec: ArgSpec): string {
  if (spec.float) return `${spec.size * 8}-bit float`;
  return `${spec.signed ? 'signed' : 'unsigned'} ${spec.size * 8}-bit`;
}

function countText(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
