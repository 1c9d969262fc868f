import { strict as assert } from 'node:assert';
import { formatProbesStatusText } from '../../src/core/process/probeStatusText';
import { noToolMessage } from '../../src/core/tools/noToolMessage';
import { toolsAvailableFor, TOOLS } from '../../src/core/tools/toolCatalog';

describe('status bar text for several probes', () => {
  it('shows one probe as before and several summed, with how many still wait for their helper', () => {
    assert.equal(formatProbesStatusText([]), '');
    assert.equal(formatProbesStatusText([{ tool: 'p2p-traffic', eventsPerSecond: 1234.4, lost: 0 }]), '$(pulse) p2p-traffic · 1,234 ev/s · lost 0');
    assert.equal(
      formatProbesStatusText([
        { tool: 'p2p-traffic', eventsPerSecond: 1000, lost: 2 },
        { tool: 'mempool', eventsPerSecond: 234.4, lost: 1 },
        { tool: 'utxocache', eventsPerSecond: 0, lost: 0, waiting: true },
      ]),
      '$(pulse) 3 probes · 1,234 ev/s · lost 3 · 1 waiting',
    );
    assert.equal(
      formatProbesStatusText([
        { tool: 'a', eventsPerSecond: 0, lost: 0, waiting: true },
        { tool: 'b', eventsPerSecond: 0, lost: 0, waiting: true },
      ]),
      '$(loading~spin) 2 probes · waiting for the helpers',
    );
  });
});

describe('why no tool can run', () => {
  it('says a binary without tracepoints once, not once per tool', () => {
    const message = noToolMessage('/usr/bin/bitcoin-cli', toolsAvailableFor([]).filter((a) => !a.available));
    assert.equal(message, `No probe tool can run against /usr/bin/bitcoin-cli: the binary has no USDT tracepoints (build Bitcoin Core with -DWITH_USDT=ON).`);
    assert.equal(message.split('-DWITH_USDT=ON').length, 2, 'the reason appears exactly once');
  });

  it('groups the tools by reason when the reasons differ', () => {
    const message = noToolMessage('/b', toolsAvailableFor(['net:inbound_message']).filter((a) => !a.available));
    const reasons = new Set(toolsAvailableFor(['net:inbound_message']).filter((a) => !a.available).map((a) => a.reason));
    assert.equal(message.split('; ').length, reasons.size);
    for (const tool of TOOLS.filter((t) => !t.tracepoints.every((tp) => tp === 'net:inbound_message'))) assert.ok(message.includes(tool.title), tool.title);
  });
});
