/**
 * The signature pad's pen strokes in the form `SignRequest.strokes` takes: a list of strokes,
 * each a list of `{x, y, t}` points in pad pixels, `t` in milliseconds since the stroke began.
 */
import type { Stroke } from "./api";

/** What signature_pad's `toData()` gives: point groups whose points carry an epoch `time`. */
export interface PadPointGroup {
  points: { x: number; y: number; time: number; pressure?: number }[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function toStrokes(groups: readonly PadPointGroup[]): Stroke[] {
  return groups
    .filter((g) => g.points.length > 0)
    .map((g) => {
      const t0 = g.points[0].time;
      return g.points.map((p) => ({ x: round2(p.x), y: round2(p.y), t: Math.max(0, Math.round(p.time - t0)) }));
    });
}

/** Total number of points: the core refuses a signature of fewer than two. */
export function pointCount(strokes: readonly Stroke[]): number {
  return strokes.reduce((n, s) => n + s.length, 0);
}

/** An SVG path drawing stored strokes (to show a signature that was taken). */
export function strokesPath(strokes: readonly Stroke[]): string {
  return strokes
    .filter((s) => s.length > 0)
    .map((s) => {
      const [first, ...rest] = s;
      const head = `M${first.x} ${first.y}`;
      // A single tap is a dot: a zero-length segment with a round cap.
      if (rest.length === 0) return `${head} l0.01 0`;
      return `${head} ${rest.map((p) => `L${p.x} ${p.y}`).join(" ")}`;
    })
    .join(" ");
}

/** The box around the strokes, for the SVG viewBox. */
export function strokesBox(strokes: readonly Stroke[], pad = 8): { x: number; y: number; w: number; h: number } {
  const pts = strokes.flat();
  if (pts.length === 0) return { x: 0, y: 0, w: 1, h: 1 };
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x = Math.min(...xs) - pad;
  const y = Math.min(...ys) - pad;
  return { x, y, w: Math.max(...xs) + pad - x, h: Math.max(...ys) + pad - y };
}
