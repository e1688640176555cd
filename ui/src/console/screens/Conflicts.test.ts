import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import Conflicts from "./Conflicts.svelte";
import { lang } from "../lib/locale.svelte";
import { stubFetch, type Sent } from "../test/fetch";
import type { Conflict } from "../lib/api";

const reading: Conflict = {
  id: 7,
  entity: "inspection_answers",
  record_id: "ia-1",
  field: "value",
  work_order_id: "wo-1",
  work_order_number: "WO-1001",
  kept: { value: 0.62, hlc: "1773475200000-0-a", device_id: "dev-a", technician: "zhang.min", at: "2026-03-14T08:00:00Z" },
  other: { value: 0.58, hlc: "1773475100000-0-b", device_id: "dev-b", technician: "zhang.min", at: "2026-03-14T07:58:20Z" },
  detected_at: "2026-03-14T09:00:00Z",
  resolved_at: null,
  resolved_by: null,
  resolution: null,
};
const note: Conflict = { ...reading, id: 8, field: "note", kept: { ...reading.kept, value: "阀门关闭" }, other: { ...reading.other, value: "阀门半开" } };

describe("Conflicts", () => {
  let sent: Sent[];
  beforeEach(() => {
    lang.locale = "en";
    sent = stubFetch({
      "GET /console/api/conflicts?state=open": [reading, note],
      "GET /console/api/conflicts?state=resolved": [],
      "POST /console/api/conflicts/7/resolve": (s: Sent) => ({ ...reading, resolution: (s.body as { value: unknown }).value, resolved_at: "2026-03-14T10:00:00Z" }),
      "POST /console/api/conflicts/8/resolve": (s: Sent) => ({ ...note, resolution: (s.body as { value: unknown }).value }),
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("shows both values side by side with the laptop each came from", async () => {
    render(Conflicts);
    const cards = await screen.findAllByTestId("conflict");
    expect(cards).toHaveLength(2);
    const values = within(cards[0]).getAllByTestId("conflict-value").map((e) => e.textContent);
    expect(values).toEqual(["0.62", "0.58"]);
    expect(cards[0].textContent).toContain("dev-a");
    expect(cards[0].textContent).toContain("dev-b");
    expect(cards[0].textContent).toContain("Inspection answer · answer");
  });

  it("keeps the chosen side's value as it is (a number stays a number)", async () => {
    render(Conflicts);
    const cards = await screen.findAllByTestId("conflict");
    await fireEvent.click(within(cards[0]).getAllByRole("button", { name: "Use this value" })[1]);
    await vi.waitFor(() => expect(sent.some((s) => s.method === "POST")).toBe(true));
    expect(sent.find((s) => s.method === "POST")?.body).toEqual({ value: 0.58 });
  });

  it("refuses a merged value that is not JSON for a number field, and sends nothing", async () => {
    render(Conflicts);
    const cards = await screen.findAllByTestId("conflict");
    const box = within(cards[0]).getByLabelText(/merged value as JSON/);
    await fireEvent.input(box, { target: { value: "0,60" } });
    await fireEvent.click(within(cards[0]).getByRole("button", { name: "Use the merged value" }));
    expect(within(cards[0]).getByRole("alert").textContent).toContain("This field is not text: type valid JSON");
    expect(sent.filter((s) => s.method === "POST")).toHaveLength(0);

    await fireEvent.input(box, { target: { value: "0.60" } });
    await fireEvent.click(within(cards[0]).getByRole("button", { name: "Use the merged value" }));
    await vi.waitFor(() => expect(sent.filter((s) => s.method === "POST")).toHaveLength(1));
    expect(sent.find((s) => s.method === "POST")?.body).toEqual({ value: 0.6 });
  });

  it("takes a text field's merged value as typed", async () => {
    render(Conflicts);
    const cards = await screen.findAllByTestId("conflict");
    await fireEvent.input(within(cards[1]).getByLabelText("Or type the merged value"), { target: { value: "阀门半开，已调整" } });
    await fireEvent.click(within(cards[1]).getByRole("button", { name: "Use the merged value" }));
    await vi.waitFor(() => expect(sent.find((s) => s.method === "POST")?.body).toEqual({ value: "阀门半开，已调整" }));
    expect(sent.find((s) => s.method === "POST")?.path).toBe("/console/api/conflicts/8/resolve");
  });
});
