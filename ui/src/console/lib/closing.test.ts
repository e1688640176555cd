import { describe, expect, it } from "vitest";
import { PHOTO_TYPES, MAX_PHOTO_BYTES } from "./api";
import { photoProblem, visitProblem } from "./values";
import { parseHash } from "./route.svelte";

describe("close exception form", () => {
  const png = { type: "image/png", size: 20_000 };
  it("needs a reason, and a photo for a paper voucher", () => {
    expect(photoProblem({ kind: "refused_to_sign", reason: "  ", photo: null }, PHOTO_TYPES, MAX_PHOTO_BYTES)).toBe("reason_required");
    expect(photoProblem({ kind: "refused_to_sign", reason: "refused", photo: null }, PHOTO_TYPES, MAX_PHOTO_BYTES)).toBeNull();
    expect(photoProblem({ kind: "paper_voucher", reason: "signed paper", photo: null }, PHOTO_TYPES, MAX_PHOTO_BYTES)).toBe("photo_required");
    expect(photoProblem({ kind: "paper_voucher", reason: "signed paper", photo: png }, PHOTO_TYPES, MAX_PHOTO_BYTES)).toBeNull();
  });
  it("takes only images of the accepted types and size", () => {
    expect(photoProblem({ kind: "paper_voucher", reason: "r", photo: { type: "image/svg+xml", size: 10 } }, PHOTO_TYPES, MAX_PHOTO_BYTES)).toBe("photo_type");
    expect(photoProblem({ kind: "paper_voucher", reason: "r", photo: { type: "image/jpeg", size: MAX_PHOTO_BYTES + 1 } }, PHOTO_TYPES, MAX_PHOTO_BYTES)).toBe("photo_size");
  });
});

describe("return visit form", () => {
  const base = { answered_by: "陈经理", solved: true as boolean | null, note: "", card: null };
  it("needs who answered and whether it is solved", () => {
    expect(visitProblem({ ...base, answered_by: " " })).toBe("answered_by");
    expect(visitProblem({ ...base, solved: null })).toBe("solved");
    expect(visitProblem(base)).toBeNull();
  });
  it("needs a note when not solved (it becomes the new call)", () => {
    expect(visitProblem({ ...base, solved: false })).toBe("note");
    expect(visitProblem({ ...base, solved: false, note: "still leaks" })).toBeNull();
  });
  it("needs all four ratings of a card taken by phone", () => {
    expect(visitProblem({ ...base, card: { attitude: 4, skill: 3, arrival: null, promise: 4 } })).toBe("card");
    expect(visitProblem({ ...base, card: { attitude: 4, skill: 3, arrival: 2, promise: 1 } })).toBeNull();
  });
});

describe("routing", () => {
  it("knows the return-visit screen", () => {
    expect(parseHash("#/return-visits").screen).toBe("return-visits");
  });
});
