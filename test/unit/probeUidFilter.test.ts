// Every bpftrace script drops, in the kernel, the events of processes that are not the invoking user's: the
// helper passes that uid as the script's last positional parameter (SECURITY.md, "One user, their own
// processes"). A new probe without the predicate would let a user with the sudo rule trace everyone.

import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PROBES = resolve(__dirname, '..', '..', 'probes');

describe('bpftrace probe scripts filter by the invoking uid', () => {
  const scripts = readdirSync(PROBES).filter((name) => name.endsWith('.bt'));

  it('there are scripts to check', () => assert.ok(scripts.length >= 7, scripts.join(', ')));

  for (const name of scripts) {
    it(`${name}: every usdt probe starts with the uid predicate on its last positional parameter`, () => {
      const text = readFileSync(join(PROBES, name), 'utf8');
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '');
      const last = Math.max(...[...code.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
      const lines = code.split('\n');
      const probes = lines.map((line, i) => [line, lines[i + 1] ?? ''] as const).filter(([line]) => line.startsWith('usdt:'));
      assert.ok(probes.length > 0, 'the script has usdt probes');
      for (const [probe, predicate] of probes) {
        const filter = `$${last} == 0 || uid == $${last}`;
        assert.ok(predicate === `/${filter}/` || predicate.startsWith(`/(${filter}) && (`), `${probe} is followed by ${predicate}, not the uid filter on $${last}`);
      }
    });
  }
});
