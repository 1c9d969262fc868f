// How every panel writes numbers, durations and counts (pure: the pages and the unit tests use the same code).

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatDecimal(value: number): string {
  return oneDecimal.format(value);
}

export function formatTwoDecimals(value: number): string {
  return twoDecimals.format(value);
}

/** The noun for a count: plural(1, 'peer', 'peers') is 'peer'. */
export function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

/** A count with its noun: countOf(1, 'peer', 'peers') is '1 peer', countOf(1200, …) '1,200 peers'. */
export function countOf(count: number, one: string, many: string): string {
  return `${formatCount(count)} ${plural(count, one, many)}`;
}

/** An int64 decimal string with thousands separators, exact (no conversion through a double). */
export function formatInt64(text: string): string {
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  return (negative ? '−' : '') + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Satoshis (int64 decimal string) as BTC with 8 decimals, exact. */
export function formatBtc(sat: string): string {
  const negative = sat.startsWith('-');
  const digits = (negative ? sat.slice(1) : sat).padStart(9, '0');
  const whole = digits.slice(0, -8).replace(/^0+(?=\d)/, '');
  return `${negative ? '−' : ''}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${digits.slice(-8)}`;
}

export function formatBytes(value: number): string {
  const abs = Math.abs(value);
  if (abs < 1024) return `${integer.format(value)} B`;
  if (abs < 1024 * 1024) return `${oneDecimal.format(value / 1024)} KiB`;
  if (abs < 1024 * 1024 * 1024) return `${oneDecimal.format(value / (1024 * 1024))} MiB`;
  return `${oneDecimal.format(value / (1024 * 1024 * 1024))} GiB`;
}

/** Session time: [h:]mm:ss.mmm since the session started. */
export function formatSessionTime(elapsedNs: number): string {
  const totalMs = Math.floor(elapsedNs / 1e6);
  const ms = totalMs % 1000;
  const totalSeconds = Math.floor(totalMs / 1000);
  const seconds = totalSeconds % 60;
  const minutes = Math.floor(totalSeconds / 60) % 60;
  const hours = Math.floor(totalSeconds / 3600);
  const mmss = `${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}.${String(ms).padStart(3, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

function threeDigits(value: number): string {
  const abs = Math.abs(value);
  return value.toFixed(abs < 10 ? 2 : abs < 100 ? 1 : 0);
}

/**
 * Every measured duration in every panel (nanoseconds in), three significant digits in the unit that suits it:
 * "812 ns", "4.21 µs", "35.7 ms", "4.378 s", "2 min 03.4 s".
 */
export function formatDuration(ns: number): string {
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${Math.round(ns)} ns`;
  if (abs < 1e6) return `${threeDigits(ns / 1e3)} µs`;
  if (abs < 1e9) return `${threeDigits(ns / 1e6)} ms`;
  if (abs < 60e9) return `${(ns / 1e9).toFixed(3)} s`;
  const totalSeconds = ns / 1e9;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = (totalSeconds % 60).toFixed(1).padStart(4, '0');
  return hours > 0 ? `${hours} h ${String(minutes).padStart(2, '0')} min ${seconds} s` : `${minutes} min ${seconds} s`;
}

/**
 * A duration known only to the second (from whole-second clocks such as a tracepoint's entry_time): "8 s",
 * "2 min 05 s", "1 h 02 min 05 s", "14 d 00:00:07".
 */
export function formatWholeSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const two = (n: number): string => String(n).padStart(2, '0');
  if (days > 0) return `${days} d ${two(hours)}:${two(minutes)}:${two(s % 60)}`;
  return hours > 0 ? `${hours} h ${two(minutes)} min ${two(s % 60)} s` : `${minutes} min ${two(s % 60)} s`;
}

/** Seconds since the session started as m:ss (h:mm:ss from an hour on), for time axes. */
export function formatAxisTime(seconds: number): string {
  const s = Math.round(seconds);
  const minutes = Math.floor(s / 60);
  const ss = String(s % 60).padStart(2, '0');
  return minutes >= 60 ? `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`;
}
