// The stapsdt reader's report of a file compared with readelf's view of it (shared by the unit tests on system
// binaries and the real-node tier on real bitcoind builds).

import { strict as assert } from 'node:assert';
import { formatAddress, type StapsdtReport } from '../../../src/core/elf/stapsdtNotes';
import { fileOffsetFromReadelfSegments, readelfLoadSegments, readelfSections, readelfStapsdtNotes } from './readelfNotes';

/** Every note matches readelf's, in order; address equals the note's pc corrected by `.stapsdt.base`. */
export async function assertMatchesReadelf(file: string, report: StapsdtReport): Promise<void> {
  const expected = await readelfStapsdtNotes(file);
  const sections = await readelfSections(file);
  const baseSection = sections.find((section) => section.name === '.stapsdt.base');
  assert.equal(report.hasNoteSection, expected.length > 0 || sections.some((section) => section.name === '.note.stapsdt'));
  assert.equal(report.notes.length, expected.length, `${file}: note count`);
  expected.forEach((want, index) => {
    const got = report.notes[index];
    const where = `${file} note ${index} (${want.provider}:${want.name})`;
    assert.equal(got.provider, want.provider, `${where}: provider`);
    assert.equal(got.name, want.name, `${where}: name`);
    assert.equal(formatAddress(got.notePc), formatAddress(want.location), `${where}: location`);
    assert.equal(formatAddress(got.base), formatAddress(want.base), `${where}: base`);
    const shift = baseSection ? baseSection.address - want.base : 0n;
    assert.equal(formatAddress(got.address), formatAddress(want.location + shift), `${where}: corrected address`);
    assert.equal(got.semaphore === null ? '0x0' : formatAddress(got.semaphore), formatAddress(want.semaphore === 0n ? 0n : want.semaphore + shift), `${where}: semaphore`);
    assert.equal(got.arguments, want.arguments, `${where}: arguments`);
    assert.equal(got.args.map((arg) => arg.raw).join(' '), want.arguments.trim().replace(/\s+(?![^[]*\])/g, ' '), `${where}: parsed argument tokens`);
  });
}

/** The semaphore file offset equals the one readelf's LOAD segments give, and the `.probes` section's. */
export async function assertSemaphoreOffsets(file: string, report: StapsdtReport): Promise<number> {
  const segments = await readelfLoadSegments(file);
  const probesSection = (await readelfSections(file)).find((section) => section.name === '.probes');
  let checked = 0;
  for (const note of report.notes) {
    if (note.semaphore === null) {
      assert.equal(note.semaphoreFileOffset, null);
      continue;
    }
    const fromSegments = fileOffsetFromReadelfSegments(note.semaphore, segments);
    assert.notEqual(fromSegments, undefined, `${file}: semaphore ${formatAddress(note.semaphore)} is in no LOAD segment`);
    assert.equal(note.semaphoreFileOffset, fromSegments, `${file} ${note.provider}:${note.name}: semaphore file offset`);
    if (probesSection && note.semaphore >= probesSection.address && note.semaphore < probesSection.address + probesSection.size) {
      assert.equal(note.semaphoreFileOffset, probesSection.offset + (note.semaphore - probesSection.address));
    }
    checked++;
  }
  return checked;
}

