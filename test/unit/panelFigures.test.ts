// The figures the panels show: one duration format, whole-second stays, counts with their noun, y axes whose
// labels never repeat, legends that show the newest values.
import { strict as assert } from 'node:assert';
import { latestIndex, wholeAxisSplits } from '../../src/shared/chartAxis';
import { contrastRatio } from '../../src/shared/colorContrast';
import { countOf, formatCount, formatDuration, formatWholeSeconds } from '../../src/shared/format';

describe('panel figures: formats', () => {
  it('writes every duration with three significant digits in one unit scheme (no "0.1 ms" beside "µs")', () => {
    assert.equal(formatDuration(0), '0 ns');
    assert.equal(formatDuration(61_234), '61.2 µs');
    assert.equal(formatDuration(123_456), '123 µs');
    assert.equal(formatDuration(12_000_000), '12.0 ms');
    assert.equal(formatDuration(8_200_000_000), '8.200 s');
  });

  it('writes a stay known to the second as whole seconds', () => {
    assert.equal(formatWholeSeconds(0), '0 s');
    assert.equal(formatWholeSeconds(9), '9 s');
    assert.equal(formatWholeSeconds(125), '2 min 05 s');
    assert.equal(formatWholeSeconds(3_725), '1 h 02 min 05 s');
    assert.equal(formatWholeSeconds(14 * 86_400 + 7), '14 d 00:00:07');
  });

  it('puts the noun in the singular for one', () => {
    assert.equal(countOf(1, 'peer', 'peers'), '1 peer');
    assert.equal(countOf(0, 'peer', 'peers'), '0 peers');
    assert.equal(countOf(1_200, 'flush', 'flushes'), '1,200 flushes');
  });
});

describe('panel figures: charts', () => {
  it('labels a low-rate y axis without repeating a label', () => {
    // A chart of 0 or 1 event per second has the scale [0, 1.1]: one tick per whole number.
    assert.deepEqual(wholeAxisSplits(1.1), [0, 1]);
    assert.deepEqual(wholeAxisSplits(3.3), [0, 1, 2, 3]);
    for (const max of [1, 1.1, 2.2, 4.4, 7.7, 13.2, 55, 110, 990, 1_234_567]) {
      const splits = wholeAxisSplits(max);
      const labels = splits.map(formatCount);
      assert.equal(new Set(labels).size, labels.length, `repeated labels for max ${max}: ${labels.join(', ')}`);
      assert.ok(splits.length >= 2 && splits.length <= 6, `${splits.length} ticks for max ${max}`);
      assert.ok(splits.every((v) => Number.isInteger(v) && v <= max));
    }
  });

  it('finds the newest point with a value for the legend', () => {
    assert.equal(latestIndex([[1, 2, 3], [4, 5, null]]), 2);
    assert.equal(latestIndex([[1, null, null], [null, 5, null]]), 1);
    assert.equal(latestIndex([[], []]), -1);
  });
});

describe('panel figures: selection colours', () => {
  it('measures the contrast of computed colours, translucent ones blended', () => {
    assert.equal(contrastRatio('rgb(0, 0, 0)', 'rgb(255, 255, 255)'), 21);
    assert.equal(contrastRatio('rgb(255, 255, 255)', 'rgb(255, 255, 255)'), 1);
    // Grey text on a blue selection (what the raw messages panel drew): too faint.
    const faint = contrastRatio('rgb(128, 128, 128)', 'rgb(4, 57, 94)');
    assert.ok(faint !== undefined && faint < 4.5, String(faint));
    // The selection foreground on it: readable.
    const readable = contrastRatio('rgb(255, 255, 255)', 'rgb(4, 57, 94)');
    assert.ok(readable !== undefined && readable > 7, String(readable));
    // A fully transparent background shows the base below.
    assert.equal(contrastRatio('rgb(0, 0, 0)', 'rgba(0, 0, 0, 0)', 'rgb(255, 255, 255)'), 21);
    assert.equal(contrastRatio('red', 'rgb(0, 0, 0)'), undefined);
  });
});
