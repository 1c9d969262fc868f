// WCAG contrast between two CSS colours as the browser computes them ("rgb(r, g, b)" / "rgba(r, g, b, a)"),
// for the pages' render reports: selected rows must stay readable in every theme.

/** [r, g, b, a] of a computed CSS colour; undefined for anything else. */
export function parseCssRgb(text: string): [number, number, number, number] | undefined {
  const match = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(text.trim());
  if (!match) return undefined;
  const alpha = match[4] === undefined ? 1 : match[4].endsWith('%') ? Number(match[4].slice(0, -1)) / 100 : Number(match[4]);
  return [Number(match[1]), Number(match[2]), Number(match[3]), alpha];
}

function luminance([r, g, b]: readonly number[]): number {
  const channel = (value: number): number => {
    const c = value / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/**
 * The contrast ratio (1–21) of text in colour `foreground` on `background` (each blended over the one below when
 * translucent: the background over `base`, the text over the background); undefined when a colour cannot be read.
 */
export function contrastRatio(foreground: string, background: string, base = 'rgb(255, 255, 255)'): number | undefined {
  const fg = parseCssRgb(foreground);
  const bg = parseCssRgb(background);
  const under = parseCssRgb(base);
  if (!fg || !bg || !under) return undefined;
  const over = (top: readonly number[], below: readonly number[]): number[] => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3]));
  const solidBg = over(bg, under);
  const solidFg = over(fg, solidBg);
  const [light, dark] = [luminance(solidFg), luminance(solidBg)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}
