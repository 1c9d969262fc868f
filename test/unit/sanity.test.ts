import { strict as assert } from 'node:assert';
import { RECORDING_VERSION } from '../../src/core/events/eventTypes';
describe('toolchain', () => { it('runs TypeScript tests', () => { assert.equal(RECORDING_VERSION, 1); }); });
