import { describe, expect, it } from "vitest";
import { pointCount, strokesBox, strokesPath, toStrokes } from "./strokes";

describe("signature strokes", () => {
  it("turns signature_pad data into [[{x, y, t}]] with t in ms since each stroke began", () => {
    const data = [
      {
        points: [
          { x: 10.123, y: 20.5, time: 1_700_000_000_000, pressure: 0.5 },
          { x: 11, y: 22.456, time: 1_700_000_000_016, pressure: 0.5 },
          { x: 15, y: 30, time: 1_700_000_000_041.6, pressure: 0.5 },
        ],
      },
      { points: [] },
      { points: [{ x: 50, y: 60, time: 1_700_000_005_000 }] },
    ];
    const strokes = toStrokes(data);
    expect(strokes).toEqual([
      [
        { x: 10.12, y: 20.5, t: 0 },
        { x: 11, y: 22.46, t: 16 },
        { x: 15, y: 30, t: 42 },
      ],
      [{ x: 50, y: 60, t: 0 }],
    ]);
    // Exactly the keys SignRequest.strokes takes.
    expect(Object.keys(strokes[0][0]).sort()).toEqual(["t", "x", "y"]);
    expect(JSON.parse(JSON.stringify(strokes))).toEqual(strokes);
    expect(pointCount(strokes)).toBe(4);
  });

  it("draws stored strokes as an SVG path inside their box", () => {
    const strokes = [
      [
        { x: 10, y: 20, t: 0 },
        { x: 30, y: 40, t: 10 },
      ],
      [{ x: 50, y: 5, t: 0 }],
    ];
    expect(strokesPath(strokes)).toBe("M10 20 L30 40 M50 5 l0.01 0");
    expect(strokesBox(strokes, 0)).toEqual({ x: 10, y: 5, w: 40, h: 35 });
    expect(strokesBox([], 0)).toEqual({ x: 0, y: 0, w: 1, h: 1 });
  });
});
