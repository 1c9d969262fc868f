// The node selector of a session over every process of a build (NodesMessage, src/shared/panelProtocol.ts):
// "All nodes" or one node. Hidden while the session has fewer than two nodes. With all nodes shown, pages add a Node column
// that names each row's node from its pid (`nodeOfPid`). Node names come from datadirs: untrusted text.
import type { NodeChoice, NodeSelectorReport, NodesMessage, PickNodeMessage } from '../../src/shared/panelProtocol';
import type { PagePart } from './pageConnection';
import { el, formatCount, plural, setText, visibleText } from './dom';

const ALL = '';

export class NodeSelector implements PagePart {
  readonly element = el('label', 'node-selector');
  private readonly select = el('select');
  private readonly note = el('span', 'node-note');
  private nodes: readonly NodeChoice[] = [];
  private selected: string | null = null;
  private readonly byPid = new Map<number, NodeChoice>();
  private shownOptions = '';

  /** `onSelect`: the user picked a node; `onNodes`: the host sent the nodes (redraw what shows them). */
  constructor(
    onSelect: (nodeKey: string | null) => void,
    private readonly onNodes: () => void = () => undefined,
  ) {
    this.element.append(el('span', 'label', 'Node'), this.select, this.note);
    this.select.setAttribute('aria-label', 'Node');
    this.select.addEventListener('change', () => {
      const key = this.select.value === ALL ? null : this.select.value;
      if (key !== this.selected) onSelect(key);
    });
    this.element.hidden = true;
  }

  /** Takes `nodes` and `pickNode`. */
  take(message: { readonly type: string }): boolean {
    const own = message as NodesMessage | PickNodeMessage;
    if (own.type === 'nodes') {
      this.update(own);
      this.onNodes();
    } else if (own.type === 'pickNode') {
      this.pick(own.nodeKey);
    } else {
      return false;
    }
    return true;
  }

  update(message: NodesMessage): void {
    this.nodes = message.nodes;
    this.selected = message.selected;
    this.byPid.clear();
    for (const node of message.nodes) for (const pid of node.pids) this.byPid.set(pid, node);
    const wanted = message.nodes.map((n) => `${n.key}\u0001${n.label}\u0001${n.pids.join(',')}\u0001${n.running}`).join('\u0002');
    if (wanted !== this.shownOptions) {
      this.shownOptions = wanted;
      this.select.textContent = '';
      const all = el('option', undefined, `All nodes (${formatCount(message.nodes.length)})`);
      all.value = ALL;
      this.select.append(all);
      for (const node of message.nodes) {
        const option = el('option', undefined, `${visibleText(node.label)}${node.running ? '' : ' (ended)'}`);
        option.value = node.key;
        option.title = `${visibleText(node.key)} · ${plural(node.pids.length, 'pid', 'pids')} ${node.pids.join(', ')}`;
        this.select.append(option);
      }
    }
    this.select.value = message.selected ?? ALL;
    const notes: string[] = [];
    if (message.unattributedLost > 0) notes.push(`${formatCount(message.unattributedLost)} lost events name no node (a loss of all nodes together)`);
    if (message.processesWithoutNode > 0) notes.push(`${formatCount(message.processesWithoutNode)} more ${plural(message.processesWithoutNode, 'process', 'processes')} only under All nodes`);
    setText(this.note, notes.join(' · '));
    this.note.hidden = notes.length === 0;
    // One node (a session over every process that saw one, restarts included): nothing to tell apart.
    this.element.hidden = message.nodes.length < 2;
  }

  /** Picks a node as the user would (tests): the change goes to the host like a click's. */
  pick(nodeKey: string | null): void {
    this.select.value = nodeKey ?? ALL;
    this.select.dispatchEvent(new Event('change'));
  }

  /** The session covers several processes and all of them are shown: rows need a Node column. */
  get showNodeColumn(): boolean {
    return this.nodes.length > 1 && this.selected === null;
  }

  /** The node a pid belongs to, as shown in a Node column ('' when not known). */
  nodeOfPid(pid: number | null | undefined): string {
    if (typeof pid !== 'number') return '';
    return this.byPid.get(pid)?.label ?? `pid ${pid}`;
  }

  report(): NodeSelectorReport {
    return {
      shown: !this.element.hidden,
      options: [...this.select.options].map((o) => o.textContent ?? ''),
      selected: this.select.selectedOptions[0]?.textContent ?? '',
      note: this.note.hidden ? '' : (this.note.textContent ?? ''),
    };
  }
}

/**
 * A table's Node column, shown while all nodes of a session over every process are (NodeSelector.showNodeColumn):
 * a header cell and one cell per row, first in the row, in the table only while shown.
 */
export class NodeColumn {
  private readonly header: HTMLTableCellElement;
  private readonly cells = new WeakMap<HTMLTableRowElement, HTMLTableCellElement>();
  private on = false;

  constructor(
    private readonly className: string,
    title: string,
  ) {
    this.header = el('th', className, 'Node');
    this.header.title = title;
  }

  /** The column is in the table. */
  get shown(): boolean {
    return this.on;
  }

  /** The row's Node cell (one per row, kept while the column is hidden). */
  cellOf(row: HTMLTableRowElement): HTMLTableCellElement {
    let cell = this.cells.get(row);
    if (!cell) this.cells.set(row, (cell = el('td', this.className)));
    return cell;
  }

  /** Puts the column in front of `headRow` and `rows`, or takes it out; false when it already was so. */
  show(on: boolean, headRow: HTMLTableRowElement, rows: Iterable<HTMLTableRowElement>): boolean {
    if (on === this.on) return false;
    this.on = on;
    if (on) headRow.prepend(this.header);
    else this.header.remove();
    for (const row of rows) {
      if (on) row.prepend(this.cellOf(row));
      else this.cells.get(row)?.remove();
    }
    return true;
  }
}
