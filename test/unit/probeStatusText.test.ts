import * as assert from 'node:assert/strict';
import { EventRateMeter, formatProbeStatusText } from '../../src/core/process/probeStatusText';

describe('probeStatusText', () => {
  it('formats the running probe with grouped numbers', () => {
    assert.equal(formatProbeStatusText({ tool: 'p2p-traffic', eventsPerSecond: 1234.4, lost: 0 }), '$(pulse) p2p-traffic · 1,234 ev/s · lost 0');
    assert.equal(formatProbeStatusText({ tool: 'p2p-traffic', eventsPerSecond: 0, lost: 1234567 }), '$(pulse) p2p-traffic · 0 ev/s · lost 1,234,567');
  });

  it('says when it still waits for the helper', () => {
    assert.equal(formatProbeStatusText({ tool: 'p2p-monitor', eventsPerSecond: 0, lost: 0, waiting: true }), '$(loading~spin) p2p-monitor · waiting for the helper');
  });

  it('measures events per second between readings of a cumulative count', () => {
    const meter = new EventRateMeter(0);
    assert.equal(meter.sample(1000, 1000), 1000);
    assert.equal(meter.sample(1500, 1500), 1000);
    assert.equal(meter.sample(1500, 2500), 0);
    assert.equal(meter.sample(1500, 2500), 0, 'no time passed: keeps the last rate');
    assert.equal(meter.sample(100, 3500), 0, 'a count that went down (new session) is not a negative rate');
  });
});
