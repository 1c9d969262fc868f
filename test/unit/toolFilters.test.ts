// `--filter K=V` → the tool's kernel-filter parameters (probes/tools.json), checked against the manifest's patterns.

import * as assert from 'node:assert/strict';
import { currentFilterValues, describeFilters, filterKeys, filterParameters, FilterError, filterValueProblem, paramsWithFilters } from '../../src/core/tools/toolFilters';
import { parsePanelMessage } from '../../src/shared/panelProtocol';
import { findTool, type ToolDefinition } from '../../src/core/tools/toolCatalog';

const tool = (id: string): ToolDefinition => {
  const found = findTool(id);
  assert.ok(found, id);
  return found;
};

describe('kernel filters (toolFilters.ts)', () => {
  it('names the filters of each tool from the manifest', () => {
    assert.deepEqual(filterKeys(tool('p2p-traffic')), ['peer', 'type']);
    assert.deepEqual(filterKeys(tool('utxos')), ['op', 'txid', 'sample']);
    assert.deepEqual(filterKeys(tool('p2p-monitor')), []);
  });

  it('maps filters to parameters; a txid prefix becomes its value and bit count', () => {
    assert.deepEqual(filterParameters(tool('p2p-traffic'), ['peer=0', 'type=sendcmpct']), { peer: '0', msg_type: 'sendcmpct' });
    assert.deepEqual(filterParameters(tool('utxos'), ['op=uncache', 'txid=00Ff', 'sample=100']), {
      op: 'uncache', txid_high: '255', txid_bits: '16', sample: '100',
    });
    assert.deepEqual(filterParameters(tool('utxos'), ['txid=fffffffffffffff']), { txid_high: String(2n ** 60n - 1n), txid_bits: '60' });
  });

  it('refuses what the kernel would misread, saying what is expected', () => {
    const refused = (id: string, filters: string[], message: RegExp): void =>
      assert.throws(() => filterParameters(tool(id), filters), (e: unknown) => e instanceof FilterError && message.test(e.message));
    refused('p2p-monitor', ['peer=1'], /p2p-monitor takes no filter/);
    refused('p2p-traffic', ['txid=ab'], /p2p-traffic has no filter 'txid' \(filters: peer=…, type=…\)/);
    refused('p2p-traffic', ['peer'], /--filter peer needs a value: peer=VALUE/);
    refused('p2p-traffic', ['peer=-2'], /--filter peer=-2: Only messages of this peer/);
    refused('p2p-traffic', ['peer=007'], /--filter peer=007/);
    refused('p2p-traffic', ['type=TX'], /--filter type=TX/);
    refused('p2p-traffic', ['type=averyveryverylongtype'], /--filter type=/);
    refused('utxos', ['txid=0123456789abcdef'], /1 to 15 hex digits/);
    refused('utxos', ['txid=12g'], /not '12g'/);
    refused('utxos', ['sample=0'], /--filter sample=0/);
    refused('utxos', ['op=delete'], /--filter op=delete/);
  });

  it('describes a session\'s filters for headers and the CLI', () => {
    assert.equal(describeFilters(undefined), '');
    assert.equal(describeFilters({ peer: '3', msg_type: 'tx' }), 'peer 3, type tx');
    assert.equal(describeFilters({ op: 'spent', txid_high: '255', txid_bits: '16', sample: '10' }), 'operation spent, txid 00ff…, sampled 1 in 10');
  });

  it("prefills the filter control with a session's filters and turns the answers back into its parameters", () => {
    const p2p = tool('p2p-traffic');
    assert.deepEqual(currentFilterValues(p2p, {}), { peer: '', type: '' });
    assert.deepEqual(currentFilterValues(p2p, { peer: '-1', msg_type: '-' }), { peer: '', type: '' });
    assert.deepEqual(currentFilterValues(p2p, { peer: '3', msg_type: 'tx' }), { peer: '3', type: 'tx' });
    const utxos = tool('utxos');
    const filtered = filterParameters(utxos, ['op=spent', 'txid=00ff', 'sample=10']);
    assert.deepEqual(currentFilterValues(utxos, filtered), { op: 'spent', txid: '00ff', sample: '10' });
    assert.deepEqual(currentFilterValues(utxos, { op: 'any', txid_high: '0', txid_bits: '0', sample: '1' }), { op: '', txid: '', sample: '' });

    // The filters are replaced, the other parameters kept; `KEY=` and a key left out are no filter.
    assert.deepEqual(paramsWithFilters(p2p, { peer: '3', msg_type: 'tx' }, ['peer=1', 'type=']), { peer: '1' });
    assert.deepEqual(paramsWithFilters(p2p, { peer: '3', msg_type: 'tx' }, []), {});
    assert.deepEqual(paramsWithFilters(utxos, filtered, ['txid=00ff']), { txid_high: '255', txid_bits: '16' });
    assert.deepEqual(paramsWithFilters(p2p, { start: '5', peer: '2' }, ['type=inv']), { start: '5', msg_type: 'inv' });
    assert.throws(() => paramsWithFilters(p2p, {}, ['peer=x']), FilterError);
  });

  it('says why a typed filter value is refused, and takes an empty one as no filter', () => {
    assert.equal(filterValueProblem(tool('p2p-traffic'), 'peer', ''), undefined);
    assert.equal(filterValueProblem(tool('p2p-traffic'), 'peer', '12'), undefined);
    assert.match(filterValueProblem(tool('p2p-traffic'), 'peer', 'abc') ?? '', /peer=abc: Only messages of this peer/);
    assert.match(filterValueProblem(tool('utxos'), 'txid', 'xyz') ?? '', /first 1 to 15 hex digits/);
  });

  it("the page's 'Kernel filter…' message is checked like every common message", () => {
    const parse = (value: unknown): unknown => parsePanelMessage(value, () => ({}));
    assert.deepEqual(parse({ type: 'filterInKernel', sessionId: 'live-1', filters: ['peer=1'] }), { type: 'filterInKernel', sessionId: 'live-1' });
    assert.deepEqual(parse({ type: 'filterInKernel', sessionId: 'x'.repeat(300) }), { type: 'filterInKernel', sessionId: 'x'.repeat(200) });
    assert.equal(parse({ type: 'filterInKernel', sessionId: null }), undefined);
    assert.equal(parse({ type: 'filterInKernel' }), undefined);
  });
});
