import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import SearchBox from "./SearchBox.svelte";
import { i18n } from "./locale.svelte";
import { nav } from "./nav.svelte";
import type { SearchHit } from "./api";

const hits: SearchHit[] = [
  { kind: "asset", record_id: "as-1", order_id: null, title: "2# 喷淋泵", body: "JQ-PUMP-02" },
  { kind: "work_order", record_id: "wo-2", order_id: "wo-2", title: "WO-1002", body: "泵体漏水" },
  { kind: "customer", record_id: "cu-1", order_id: null, title: "金桥国际商业广场", body: "" },
  { kind: "repair_record", record_id: "rr-1", order_id: "wo-9", title: "机械密封磨损", body: "" },
];

describe("SearchBox", () => {
  let calls: { cmd: string; args: Record<string, unknown> }[];
  beforeEach(() => {
    calls = [];
    i18n.locale = "en";
    nav.go("today");
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: args as Record<string, unknown> });
      if (cmd === "search") return hits;
      if (cmd === "related_orders") return ["wo-1", "wo-4"];
      return null;
    });
  });
  afterEach(() => {
    clearMocks();
    vi.useRealTimers();
  });

  it("answers as you type, once typing pauses, grouped by kind", async () => {
    vi.useFakeTimers();
    render(SearchBox, { props: { day: "2026-03-14", onfilter: vi.fn() } });
    const input = screen.getByLabelText("Search");
    await fireEvent.input(input, { target: { value: "泵" } });
    await fireEvent.input(input, { target: { value: "泵体" } });
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual([{ cmd: "search", args: { query: "泵体", limit: 40 } }]);
    vi.useRealTimers();
    const options = await screen.findAllByRole("option");
    // Work orders first, then customers, sites, assets, repair records.
    expect(options.map((o) => o.querySelector("strong")!.textContent)).toEqual([
      "WO-1002",
      "金桥国际商业广场",
      "2# 喷淋泵",
      "机械密封磨损",
    ]);
    expect(screen.getByText("Work orders")).toBeTruthy();
    expect(screen.getByText("Repair records")).toBeTruthy();
    expect(screen.getByRole("status").textContent).toContain("4 found");
  });

  it("Enter opens the highlighted work order; ↓ moves the highlight", async () => {
    render(SearchBox, { props: { day: "2026-03-14", onfilter: vi.fn(), debounceMs: 0 } });
    const input = screen.getByLabelText("Search");
    await fireEvent.input(input, { target: { value: "泵" } });
    await screen.findAllByRole("option");
    await fireEvent.keyDown(input, { key: "Enter" });
    expect(nav.route).toEqual({ screen: "order", order: "wo-2", tab: "details" });

    nav.go("today");
    await fireEvent.input(input, { target: { value: "泵 " } });
    await screen.findAllByRole("option");
    for (let i = 0; i < 3; i++) await fireEvent.keyDown(input, { key: "ArrowDown" });
    await fireEvent.keyDown(input, { key: "Enter" });
    expect(nav.route).toEqual({ screen: "order", order: "wo-9", tab: "repair" });
  });

  it("a customer, site or asset filters the day's list to its orders", async () => {
    const onfilter = vi.fn();
    render(SearchBox, { props: { day: "2026-03-14", onfilter, debounceMs: 0 } });
    await fireEvent.input(screen.getByLabelText("Search"), { target: { value: "泵" } });
    const asset = (await screen.findAllByRole("option")).find((o) => o.textContent?.includes("2# 喷淋泵"))!;
    await fireEvent.click(asset);
    await waitFor(() => expect(onfilter).toHaveBeenCalledWith({ label: "equipment 2# 喷淋泵", ids: ["wo-1", "wo-4"] }));
    expect(calls.at(-1)).toEqual({
      cmd: "related_orders",
      args: { kind: "asset", record_id: "as-1", date: "2026-03-14" },
    });
    expect(nav.route.screen).toBe("today");
  });
});
