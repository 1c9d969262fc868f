import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { describeOperand, parseArgSpec, parseArgSpecs, splitArgSpecs, type ArgOperand, type ArgSpec } from '../../src/core/elf/argSpec';
import { readStapsdtNotes } from '../../src/core/elf/stapsdtNotes';
import { buildSdtPrograms, makeTemporaryDirectory } from './helpers/readelfNotes';

function spec(raw: string, machine: string | undefined, size: ArgSpec['size'], signed: boolean, operand: ArgOperand, float = false): void {
  assert.deepEqual(parseArgSpec(raw, machine), { raw, size, signed, float, operand }, `${raw} on ${machine ?? 'unknown machine'}`);
}

describe('argument spec parser', () => {
  describe('x86-64 (AT&T)', () => {
    const m = 'x86-64';
    it('registers, signed and unsigned', () => {
      spec('-8@%r12', m, 8, true, { kind: 'register', register: 'r12' });
      spec('8@%rbx', m, 8, false, { kind: 'register', register: 'rbx' });
      spec('-4@%ebp', m, 4, true, { kind: 'register', register: 'ebp' });
      spec('-1@%dil', m, 1, true, { kind: 'register', register: 'dil' });
      spec('2@%cx', m, 2, false, { kind: 'register', register: 'cx' });
    });
    it('base + displacement', () => {
      spec('8@192(%rsp)', m, 8, false, { kind: 'memory', base: 'rsp', displacement: 192n });
      spec('8@-80(%rbx)', m, 8, false, { kind: 'memory', base: 'rbx', displacement: -80n });
      spec('8@(%rsi)', m, 8, false, { kind: 'memory', base: 'rsi', displacement: 0n });
      spec('8@0x10(%rax)', m, 8, false, { kind: 'memory', base: 'rax', displacement: 16n });
    });
    it('base + index * scale', () => {
      spec('8@-16(%rbp,%rax,8)', m, 8, false, { kind: 'memory', base: 'rbp', index: 'rax', scale: 8, displacement: -16n });
      spec('-8@(%rdx,%rax,8)', m, 8, true, { kind: 'memory', base: 'rdx', index: 'rax', scale: 8, displacement: 0n });
      spec('4@(%rdx,%rcx)', m, 4, false, { kind: 'memory', base: 'rdx', index: 'rcx', scale: 1, displacement: 0n });
      spec('4@8(,%rcx,4)', m, 4, false, { kind: 'memory', index: 'rcx', scale: 4, displacement: 8n });
    });
    it('immediates', () => {
      spec('-4@$5', m, 4, true, { kind: 'immediate', value: 5n });
      spec('-4@$-3', m, 4, true, { kind: 'immediate', value: -3n });
      spec('8@$0x1f', m, 8, false, { kind: 'immediate', value: 31n });
    });
    it('symbol-relative (rip) and absolute symbols', () => {
      spec('8@var(%rip)', m, 8, false, { kind: 'memory', base: 'rip', symbol: 'var', displacement: 0n });
      spec('8@foo+8(%rip)', m, 8, false, { kind: 'memory', base: 'rip', symbol: 'foo', displacement: 8n });
      spec('8@_ZN4node5countE-0x10(%rip)', m, 8, false, { kind: 'memory', base: 'rip', symbol: '_ZN4node5countE', displacement: -16n });
      spec('-8@global_counter', m, 8, true, { kind: 'memory', symbol: 'global_counter', displacement: 0n });
      spec('8@0x601040', m, 8, false, { kind: 'memory', displacement: 0x601040n });
    });
    it('floats', () => {
      spec('4f@%edx', m, 4, false, { kind: 'register', register: 'edx' }, true);
      spec('8f@dval(%rip)', m, 8, false, { kind: 'memory', base: 'rip', symbol: 'dval', displacement: 0n }, true);
      spec('-8f@%xmm0', m, 8, true, { kind: 'register', register: 'xmm0' }, true);
    });
  });

  describe('i386', () => {
    it('registers, stack slots and @GOTOFF symbols', () => {
      spec('-4@%esi', 'i386', 4, true, { kind: 'register', register: 'esi' });
      spec('4@8(%esp)', 'i386', 4, false, { kind: 'memory', base: 'esp', displacement: 8n });
      spec('-4@global_counter@GOTOFF(%ebx)', 'i386', 4, true, { kind: 'memory', base: 'ebx', symbol: 'global_counter@GOTOFF', displacement: 0n });
      spec('-4@gs@GOTOFF(%ecx,%eax,4)', 'i386', 4, true, { kind: 'memory', base: 'ecx', index: 'eax', scale: 4, symbol: 'gs@GOTOFF', displacement: 0n });
    });
    it('a spec without a size takes the 4-byte word', () => {
      spec('%eax', 'i386', 4, false, { kind: 'register', register: 'eax' });
    });
  });

  describe('aarch64', () => {
    const m = 'aarch64';
    it('registers', () => {
      spec('-8@x4', m, 8, true, { kind: 'register', register: 'x4' });
      spec('4@w1', m, 4, false, { kind: 'register', register: 'w1' });
      spec('8@sp', m, 8, false, { kind: 'register', register: 'sp' });
    });
    it('memory with and without offset', () => {
      spec('4@[sp, 96]', m, 4, false, { kind: 'memory', base: 'sp', displacement: 96n });
      spec('8@[x1]', m, 8, false, { kind: 'memory', base: 'x1', displacement: 0n });
      spec('8f@[x3, 8]', m, 8, false, { kind: 'memory', base: 'x3', displacement: 8n }, true);
      spec('8@[x29, -16]', m, 8, false, { kind: 'memory', base: 'x29', displacement: -16n });
      spec('8@[x0, #24]', m, 8, false, { kind: 'memory', base: 'x0', displacement: 24n });
      spec('8@[x0, x1, lsl #3]', m, 8, false, { kind: 'memory', base: 'x0', index: 'x1', scale: 8, displacement: 0n });
    });
    it('immediates, bare or with #', () => {
      spec('-4@5', m, 4, true, { kind: 'immediate', value: 5n });
      spec('-4@-3', m, 4, true, { kind: 'immediate', value: -3n });
      spec('-4@#5', m, 4, true, { kind: 'immediate', value: 5n });
      spec('1@0', m, 1, false, { kind: 'immediate', value: 0n });
    });
    it('splits on spaces only outside brackets', () => {
      assert.deepEqual(splitArgSpecs('-4@x0 4@[sp, 96]  8f@[x3, 8]'), ['-4@x0', '4@[sp, 96]', '8f@[x3, 8]']);
      assert.deepEqual(parseArgSpecs('-4@x0 4@[sp, 96]', m).map((arg) => arg.operand.kind), ['register', 'memory']);
    });
  });

  describe('s390x', () => {
    const m = 's390x';
    it('registers, base + displacement, D(X,B), immediates', () => {
      spec('8@%r2', m, 8, false, { kind: 'register', register: 'r2' });
      spec('-8@%r3', m, 8, true, { kind: 'register', register: 'r3' });
      spec('4@160(%r15)', m, 4, false, { kind: 'memory', base: 'r15', displacement: 160n });
      spec('8@0(%r1,%r15)', m, 8, false, { kind: 'memory', base: 'r15', index: 'r1', scale: 1, displacement: 0n });
      spec('-4@5', m, 4, true, { kind: 'immediate', value: 5n });
    });
  });

  describe('odd input never throws', () => {
    it('unknown syntax keeps its text', () => {
      spec('8@%fs:0x28', 'x86-64', 8, false, { kind: 'unknown', text: '%fs:0x28' });
      spec('8@(%rax', 'x86-64', 8, false, { kind: 'unknown', text: '(%rax' });
      spec('8@', 'x86-64', 8, false, { kind: 'unknown', text: '' });
      spec('8@[x1', 'aarch64', 8, false, { kind: 'unknown', text: '[x1' });
      spec('16@%xmm0', 'x86-64', 8, false, { kind: 'unknown', text: '%xmm0' });
      spec('8@4(%rax,%rbx,3)', 'x86-64', 8, false, { kind: 'unknown', text: '4(%rax,%rbx,3)' });
    });
    it('empty and whitespace-only strings give no arguments', () => {
      assert.deepEqual(parseArgSpecs(''), []);
      assert.deepEqual(parseArgSpecs('  \t '), []);
    });
    it('random strings', () => {
      let seed = 12345;
      const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
      const alphabet = '-0123456789f@%$#()[], xrsplabdiqGOTF+:\t\0é';
      for (let round = 0; round < 3000; round++) {
        let text = '';
        const length = next() % 40;
        for (let index = 0; index < length; index++) text += alphabet[next() % alphabet.length];
        for (const machine of [undefined, 'x86-64', 'i386', 'aarch64', 's390x', 'EM_999']) {
          const parsed = parseArgSpecs(text, machine);
          for (const arg of parsed) {
            assert.ok([1, 2, 4, 8].includes(arg.size));
            assert.equal(typeof describeOperand(arg.operand), 'string');
          }
        }
      }
    });
  });

  describe('without a machine', () => {
    it('guesses from the syntax', () => {
      spec('-8@%r12', undefined, 8, true, { kind: 'register', register: 'r12' });
      spec('8@192(%rsp)', undefined, 8, false, { kind: 'memory', base: 'rsp', displacement: 192n });
      spec('-8@x4', undefined, 8, true, { kind: 'register', register: 'x4' });
      spec('4@[sp, 96]', undefined, 4, false, { kind: 'memory', base: 'sp', displacement: 96n });
      spec('-4@$5', undefined, 4, true, { kind: 'immediate', value: 5n });
      spec('-4@5', undefined, 4, true, { kind: 'immediate', value: 5n });
    });
  });

  it('describeOperand', () => {
    assert.equal(describeOperand(parseArgSpec('8@-16(%rbp,%rax,8)', 'x86-64').operand), '[rbp+rax*8-16]');
    assert.equal(describeOperand(parseArgSpec('8@foo+8(%rip)', 'x86-64').operand), '[rip+foo+8]');
    assert.equal(describeOperand(parseArgSpec('-4@$-3', 'x86-64').operand), '-3');
    assert.equal(describeOperand(parseArgSpec('-8@%r12', 'x86-64').operand), 'r12');
  });

  describe('every spec in real binaries parses to a known operand', function () {
    this.timeout(120000);
    let directory: string;
    before(async () => {
      directory = await makeTemporaryDirectory('arg-spec-test-');
    });
    after(async () => {
      if (directory) await fs.rm(directory, { recursive: true, force: true });
    });

    it('python3.11, libstdc++ and the self-compiled programs of every architecture', async () => {
      const programs = await buildSdtPrograms(directory);
      const files = ['/usr/bin/python3.11', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6', ...programs.map((program) => program.file)];
      let checked = 0;
      const machines = new Set<string>();
      for (const file of files) {
        const report = await readStapsdtNotes(file);
        machines.add(report.elf.machine);
        for (const note of report.notes) {
          const tokens = note.arguments.split(/\s+(?![^[]*\])/).filter((token) => token !== '');
          assert.equal(note.args.length, tokens.length, `${file} ${note.name}: ${note.arguments}`);
          for (const arg of note.args) {
            assert.notEqual(arg.operand.kind, 'unknown', `${file} ${note.provider}:${note.name}: ${arg.raw}`);
            checked++;
          }
        }
      }
      assert.deepEqual([...machines].sort(), ['aarch64', 'i386', 's390x', 'x86-64']);
      assert.ok(checked > 100, `checked ${checked} specs`);
    });
  });
});
