// The helper's check of a generated-probe request (probes/bitcoin-usdt-helper.py: check_params, then trace_spec),
// fuzzed with random and hostile requests against the real notes of the test tracee: every request is either
// refused with a clear message or turned into a program of exactly the template's shape, and it is accepted
// exactly when the TypeScript side's own reading of the rules (src/core/trace) says it fits the notes.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readBitcoindNotes } from '../../src/core/catalog/catalogMatch';
import { stackCost } from '../../src/core/trace/readingProposal';
import { BPFTRACE_READABLE_ARGS, parseReadings } from '../../src/core/trace/traceReadings';
import type { StapsdtNote } from '../../src/core/elf/stapsdtNotes';
import { findTool } from '../../src/core/tools/toolCatalog';

const ROOT = join(__dirname, '..', '..');
const HELPER = join(ROOT, 'probes', 'bitcoin-usdt-helper.py');
const TRACEE = join(ROOT, 'test', 'tracee', 'build', 'tracee-v29');
const CASES = 6000;

const DRIVER = String.raw`
import importlib.util, json, os, random, sys
spec = importlib.util.spec_from_file_location('helper', sys.argv[1])
helper = importlib.util.module_from_spec(spec); spec.loader.exec_module(helper)
fd = os.open(sys.argv[2], os.O_RDONLY)
tracepoints = helper.usdt_tracepoints(fd)
rng = random.Random(int(sys.argv[3]))
names = sorted(tracepoints) + ['tracee:nope', 'net:inbound_message\n}', 'a"b:c', 'tracee:buffers}', ':', 'tracee:', ':buffers',
    'tracee:buffers;system("id")', 'x' * 70 + ':y', 'tracee:buffers ', ' tracee:buffers', 'tracee:buf\x00fers', 'tracee:b\u00fcffers',
    'tracee:buffers/*', 'usdt:/bin/sh:x', '$1:x', 'tracee:buffers:extra', '']
atoms = ['u8', 's8', 'u16', 's16', 'u32', 's32', 'u64', 's64', 'hash', '-', 'str1', 'str16', 'str71', 'str72', 'str999', 'str0',
    'str-1', 'hex1', 'hex8', 'hex24', 'hex64', 'hex65', 'hex1000', 'hex-8', 'u128', 'int', '}', '"', 'str16\n', 'u8)', ' u8',
    'str01', 'hash;', 'str16"); system("id"); print(("', '\u0663', 'STR16', '', ',']
def reading_list():
    n = rng.choice([0, 1, 2, 3, 4, 4, 4, 4, 5, 6, 7, 8, 12, 13, 40])
    return ','.join(rng.choice(atoms) for _ in range(n))
def near_valid(tracepoint):
    count = len(next(iter(tracepoints[tracepoint])))
    return ','.join(rng.choice(['u8', 's64', 'u32', '-', 'hash', 'str16', 'str71', 'hex8', 'hex64']) for _ in range(count))
for i in range(int(sys.argv[4])):
    tracepoint, args = rng.choice(names), reading_list()
    if rng.random() < 0.3:
        tracepoint = rng.choice(sorted(tracepoints))
        args = near_valid(tracepoint)
    items = ['tracepoint=' + tracepoint, 'args=' + args]
    if rng.random() < 0.05:
        items.append(rng.choice(['index=-1', 'args=u8', 'tool=x', 'tracepoint', '=u8', 'program=print(1)']))
    if rng.random() < 0.03:
        items = items[1:]
    try:
        params = helper.check_params('trace-tracepoint', items)
        spec, program = helper.generated_probe(params, tracepoints)
        print(json.dumps({'items': items, 'spec': spec, 'program': program}))
    except helper.Refused as err:
        print(json.dumps({'items': items, 'refused': str(err)}))
`;

interface FuzzResult {
  items: string[];
  refused?: string;
  spec?: { tracepoint: string; args: Array<{ index: number; kind: string; bytes: number }> };
  program?: string;
}

/** The rules as the TypeScript side knows them: would the helper accept these parameters for this binary? */
function acceptable(items: readonly string[], notes: readonly StapsdtNote[]): boolean {
  const params = new Map<string, string>();
  for (const item of items) {
    const at = item.indexOf('=');
    if (at < 0) return false;
    const [key, value] = [item.slice(0, at), item.slice(at + 1)];
    const parameter = findTool('trace-tracepoint')?.parameters.find((p) => p.name === key);
    if (parameter === undefined || !new RegExp(parameter.pattern).test(value)) return false; // every value, as given
    params.set(key, value);
  }
  const tracepoint = params.get('tracepoint') ?? '';
  if (!/^[A-Za-z_]\w{0,63}:[A-Za-z_]\w{0,63}$/.test(tracepoint)) return false;
  const matching = notes.filter((n) => `${n.provider}:${n.name}` === tracepoint);
  if (matching.length === 0) return false;
  const argsText = params.get('args') ?? '';
  let readings;
  try {
    readings = parseReadings(argsText);
  } catch {
    return false;
  }
  if (argsText.split(',').some((part) => part !== part.trim())) return false;
  if (readings.length > 12 || readings.length !== matching[0].args.length) return false;
  for (const [i, r] of readings.entries()) {
    if (r.kind === 'skip') continue;
    if (i >= BPFTRACE_READABLE_ARGS) return false;
    if ((r.kind === 'str' || r.kind === 'hex' || r.kind === 'hash') && matching.some((n) => n.args[i].size !== 8)) return false;
  }
  return stackCost(readings) <= 480;
}

/** Every line of an accepted program: the template, with only the checked tracepoint and the fixed expressions. */
function checkProgramShape(program: string, tracepoint: string): void {
  const reading = String.raw`(?:\((?:u?int(?:8|16|32|64))\)arg[0-5]|str\(arg[0-5], [1-9][0-9]?\)|\*\(uint(?:64|8) \*\)\(arg[0-5] \+ [0-9]{1,2}\))`;
  const shape = new RegExp(
    String.raw`^usdt:\$1:${tracepoint}\n/\$2 == 0 \|\| uid == \$2/\n\{\n  @fired\["${tracepoint}"\] = count\(\);\n` +
      String.raw`  print\(\("hit", elapsed(?:, ${reading})*\)\);\n\}\n\ninterval:s:1\n\{\n  print\(@fired\);\n\}\n$`,
  );
  assert.match(program, shape);
}

describe('generated probe requests: the helper refuses anything outside its validated form (fuzzed)', function () {
  this.timeout(120_000);

  it(`${CASES} random and hostile requests: a clear refusal or a template-shaped program, as the rules say`, async () => {
    assert.ok(existsSync(TRACEE), `${TRACEE} is missing: run \`make -C test/tracee\` first`);
    const notes = (await readBitcoindNotes(TRACEE)).notes;
    const output = execFileSync('python3', ['-I', '-S', '-c', DRIVER, HELPER, TRACEE, '1234', String(CASES)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const results = output.trim().split('\n').map((line) => JSON.parse(line) as FuzzResult);
    assert.equal(results.length, CASES);
    let accepted = 0;
    for (const result of results) {
      const should = acceptable(result.items, notes);
      if (result.refused !== undefined) {
        assert.equal(should, false, `refused although it fits: ${JSON.stringify(result.items)}: ${result.refused}`);
        assert.ok(result.refused.length > 10 && result.refused.length < 400, result.refused);
        assert.doesNotMatch(result.refused, /Traceback|internal error|\n/, result.refused);
        continue;
      }
      accepted++;
      assert.equal(should, true, `accepted although it does not fit: ${JSON.stringify(result.items)}`);
      assert.ok(result.spec && result.program);
      checkProgramShape(result.program, result.spec.tracepoint);
      assert.ok(notes.some((n) => `${n.provider}:${n.name}` === result.spec?.tracepoint));
    }
    assert.ok(accepted > 20, `only ${accepted} requests were valid: the fuzzer must reach the generator too`);
    assert.ok(CASES - accepted > CASES / 2);
  });
});
