/**
 * Parser for SystemTap SDT argument specs (`[-]SIZE[f]@OPERAND`, space separated), as written by <sys/sdt.h>
 * into `.note.stapsdt`. Register names are kept without their `%` sigil (`%r12` → `r12`).
 * An operand this parser does not understand becomes `{ kind: 'unknown', text }`; it never throws.
 */

export type ArgOperand =
  | { kind: 'register'; register: string }
  | { kind: 'memory'; base?: string; index?: string; scale?: number; displacement: bigint; symbol?: string }
  | { kind: 'immediate'; value: bigint }
  | { kind: 'unknown'; text: string };

export interface ArgSpec {
  raw: string;
  size: 1 | 2 | 4 | 8;
  signed: boolean;
  float: boolean;
  operand: ArgOperand;
}

type Dialect = 'att' | 's390' | 'arm' | 'generic';

const SIZED_SPEC = /^(-?)(\d+)(f?)@(.*)$/s;
const NUMBER = /^([+-]?)(0x[0-9a-f]+|\d+)$/i;
const SYMBOL = /^[A-Za-z_.$][\w.$@]*$/;
const REGISTER_NAME = /^[A-Za-z][A-Za-z0-9_.]*$/;

export function parseArgSpecs(raw: string, machine?: string): ArgSpec[] {
  return splitArgSpecs(raw).map((token) => parseArgSpec(token, machine));
}

/** Splits on whitespace outside brackets: aarch64 writes `4@[sp, 96]`. */
export function splitArgSpecs(raw: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let depth = 0;
  for (const character of raw) {
    if (character === '[' || character === '(') depth++;
    else if ((character === ']' || character === ')') && depth > 0) depth--;
    if (/\s/.test(character) && depth === 0) {
      if (current !== '') tokens.push(current);
      current = '';
    } else {
      current += character;
    }
  }
  if (current !== '') tokens.push(current);
  return tokens;
}

export function parseArgSpec(raw: string, machine?: string): ArgSpec {
  const dialect = dialectOf(machine);
  const defaultSize: 4 | 8 = machine === 'i386' || machine === 's390' || machine === 'arm' || machine === 'ppc' ? 4 : 8;
  const sized = SIZED_SPEC.exec(raw);
  if (!sized) {
    // Pre-v3 notes wrote bare operands without a size.
    return { raw, size: defaultSize, signed: false, float: false, operand: parseOperand(raw, dialect) };
  }
  const [, sign, sizeText, floatFlag, operandText] = sized;
  const size = Number(sizeText);
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    return { raw, size: defaultSize, signed: sign === '-', float: floatFlag === 'f', operand: { kind: 'unknown', text: operandText } };
  }
  return { raw, size, signed: sign === '-', float: floatFlag === 'f', operand: parseOperand(operandText, dialect) };
}

/** Human-readable operand, e.g. `r12`, `[rsp+192]`, `[rip+var+8]`, `5`. */
export function describeOperand(operand: ArgOperand): string {
  switch (operand.kind) {
    case 'register':
      return operand.register;
    case 'immediate':
      return operand.value.toString();
    case 'unknown':
      return operand.text;
    case 'memory': {
      const parts: string[] = [];
      if (operand.base) parts.push(operand.base);
      if (operand.index) parts.push(operand.scale && operand.scale !== 1 ? `${operand.index}*${operand.scale}` : operand.index);
      if (operand.symbol) parts.push(operand.symbol);
      let text = parts.join('+');
      if (operand.displacement !== 0n || text === '') {
        const sign = operand.displacement < 0n ? '-' : text === '' ? '' : '+';
        const magnitude = operand.displacement < 0n ? -operand.displacement : operand.displacement;
        text += `${sign}${magnitude}`;
      }
      return `[${text}]`;
    }
  }
}

function dialectOf(machine: string | undefined): Dialect {
  switch (machine) {
    case 'x86-64':
    case 'i386':
      return 'att';
    case 's390x':
    case 's390':
      return 's390';
    case 'aarch64':
    case 'arm':
      return 'arm';
    default:
      return 'generic';
  }
}

function parseOperand(text: string, dialect: Dialect): ArgOperand {
  const unknown: ArgOperand = { kind: 'unknown', text };
  if (text === '') return unknown;
  switch (dialect) {
    case 'att':
    case 's390':
      return parseAttOperand(text, dialect) ?? unknown;
    case 'arm':
      return parseArmOperand(text) ?? unknown;
    case 'generic':
      if (text.startsWith('[') || text.startsWith('#')) return parseArmOperand(text) ?? unknown;
      if (text.startsWith('%') || text.startsWith('$') || text.includes('(')) return parseAttOperand(text, 'generic') ?? unknown;
      return parseArmOperand(text) ?? unknown;
  }
}

function parseAttOperand(text: string, dialect: Dialect): ArgOperand | undefined {
  if (text.startsWith('%')) {
    const register = text.slice(1);
    return REGISTER_NAME.test(register) ? { kind: 'register', register } : undefined;
  }
  if (text.startsWith('$')) {
    const value = parseNumber(text.slice(1));
    return value === undefined ? undefined : { kind: 'immediate', value };
  }
  const memory = /^([^()]*)\(([^()]*)\)$/.exec(text);
  if (!memory) {
    // No parentheses: an immediate on s390 (`5`), an absolute address in AT&T (`8@counter`, `8@0x601040`).
    const value = parseNumber(text);
    if (value !== undefined && dialect !== 'att') return { kind: 'immediate', value };
    const displacement = parseDisplacement(text);
    return displacement && { kind: 'memory', ...displacement };
  }
  const displacement = parseDisplacement(memory[1].trim());
  if (!displacement) return undefined;
  const parts = memory[2].split(',').map((part) => part.trim());
  const registerOf = (part: string): string | undefined =>
    part.startsWith('%') && REGISTER_NAME.test(part.slice(1)) ? part.slice(1) : undefined;
  if (dialect === 's390' && parts.length === 2) {
    // s390 D(X,B): index first, then base.
    const index = parts[0] === '' ? undefined : registerOf(parts[0]);
    const base = registerOf(parts[1]);
    if (base === undefined || (parts[0] !== '' && index === undefined)) return undefined;
    return index === undefined ? { kind: 'memory', base, ...displacement } : { kind: 'memory', base, index, scale: 1, ...displacement };
  }
  if (parts.length < 1 || parts.length > 3) return undefined;
  const base = parts[0] === '' ? undefined : registerOf(parts[0]);
  if (parts[0] !== '' && base === undefined) return undefined;
  if (parts.length === 1) return base === undefined ? undefined : { kind: 'memory', base, ...displacement };
  const index = registerOf(parts[1]);
  if (index === undefined) return undefined;
  let scale = 1;
  if (parts.length === 3) {
    const scaleValue = Number(parts[2]);
    if (scaleValue !== 1 && scaleValue !== 2 && scaleValue !== 4 && scaleValue !== 8) return undefined;
    scale = scaleValue;
  }
  return base === undefined ? { kind: 'memory', index, scale, ...displacement } : { kind: 'memory', base, index, scale, ...displacement };
}

function parseArmOperand(text: string): ArgOperand | undefined {
  const immediateText = text.startsWith('#') ? text.slice(1) : text;
  const immediate = parseNumber(immediateText);
  if (immediate !== undefined) return { kind: 'immediate', value: immediate };
  if (text.startsWith('[')) {
    const inner = /^\[([^[\]]*)\]$/.exec(text);
    if (!inner) return undefined;
    const parts = inner[1].split(',').map((part) => part.trim());
    const base = parts[0];
    if (!REGISTER_NAME.test(base)) return undefined;
    if (parts.length === 1) return { kind: 'memory', base, displacement: 0n };
    const offsetText = parts[1].startsWith('#') ? parts[1].slice(1) : parts[1];
    const offset = parseNumber(offsetText);
    if (parts.length === 2 && offset !== undefined) return { kind: 'memory', base, displacement: offset };
    if (!REGISTER_NAME.test(parts[1])) return undefined;
    const index = parts[1];
    if (parts.length === 2) return { kind: 'memory', base, index, scale: 1, displacement: 0n };
    const shift = parts.length === 3 ? /^lsl\s+#?(\d)$/i.exec(parts[2]) : null;
    if (!shift) return undefined;
    return { kind: 'memory', base, index, scale: 2 ** Number(shift[1]), displacement: 0n };
  }
  return REGISTER_NAME.test(text) ? { kind: 'register', register: text } : undefined;
}

/** `''`, `-16`, `0x10`, `var`, `var+8`, `var-0x8`, `var@GOTOFF` → displacement and optional symbol. */
function parseDisplacement(text: string): { displacement: bigint; symbol?: string } | undefined {
  if (text === '') return { displacement: 0n };
  const value = parseNumber(text);
  if (value !== undefined) return { displacement: value };
  const symbolWithOffset = /^(.*?)([+-])(0x[0-9a-f]+|\d+)$/i.exec(text);
  if (symbolWithOffset && SYMBOL.test(symbolWithOffset[1])) {
    const offset = parseNumber(symbolWithOffset[3]) ?? 0n;
    return { symbol: symbolWithOffset[1], displacement: symbolWithOffset[2] === '-' ? -offset : offset };
  }
  return SYMBOL.test(text) ? { symbol: text, displacement: 0n } : undefined;
}

function parseNumber(text: string): bigint | undefined {
  const match = NUMBER.exec(text);
  if (!match) return undefined;
  const magnitude = BigInt(match[2]);
  return match[1] === '-' ? -magnitude : magnitude;
}
