import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import TodayOrders, { PAGE_ROWS } from "./TodayOrders.svelte";
import { i18n } from "./locale.svelte";
import { sync } from "./sync.svelte";
import type { SyncEvent, WorkOrderSummary } from "./api";

const now = new Date("2026-03-14T08:00:00Z");

function summary(number: string, deadline: string, extra: Partial<WorkOrderSummary> = {}): WorkOrderSummary {
  return {
    id: number,
    number,
    kind: "repair_call",
    status: "dispatched",
    priority: "normal",
    category: "B",
    technician: "li.wei",
    customer_name: "华东物业",
    site_name: "滨江大厦",
    address: "上海市浦东新区滨江路 88 号",
    zone: "urban",
    scheduled_on: "2026-03-14",
    reported_at: "2026-03-14T02:00:00Z",
    response_deadline: deadline,
    arrived_at: null,
    problem: null,
    ...extra,
  };
}

describe("TodayOrders", () => {
  let calls: { cmd: string; args: unknown }[];
  beforeEach(() => {
    calls = [];
    i18n.locale = "en";
  });
  afterEach(() => clearMocks());

  it("lists the day's orders from today_orders, breached ones in red", async () => {
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      return [
        summary("WO-2026-0001", "2026-03-14T07:00:00Z"),
        summary("WO-2026-0002", "2026-03-14T11:00:00Z", { kind: "patrol_inspection" }),
      ];
    });
    render(TodayOrders, { props: { clock: () => now } });

    const late = (await screen.findByText("WO-2026-0001")).closest("tr")!;
    expect(within(late).getByText("Overdue by 1 h 0 min").classList).toContain("breach");
    const ok = screen.getByText("WO-2026-0002").closest("tr")!;
    expect(within(ok).getByText("Patrol inspection")).toBeTruthy();
    expect(within(ok).getByText("3 h 0 min left").classList).not.toContain("breach");
    expect(screen.getByRole("status").textContent).toContain("2 work orders, 1 past");
    expect(calls[0].cmd).toBe("today_orders");
    expect(calls[0].args).toEqual({ date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
    expect(screen.getByLabelText("Day")).toBeTruthy();
  });

  it("puts the first PAGE_ROWS rows on screen and the rest on request, counting them all", async () => {
    const total = PAGE_ROWS * 2 + 7;
    const pad = (i: number) => String(i).padStart(4, "0");
    mockIPC(() =>
      Array.from({ length: total }, (_, i) =>
        summary(`WO-2026-${pad(i)}`, i < 3 ? "2026-03-14T07:00:00Z" : "2026-03-14T11:00:00Z"),
      ),
    );
    render(TodayOrders, { props: { clock: () => now } });
    await screen.findByText("WO-2026-0000");
    const rows = () => screen.getAllByRole("row").length - 1; // less the header row
    expect(rows()).toBe(PAGE_ROWS);
    expect(screen.queryByText(`WO-2026-${pad(PAGE_ROWS)}`)).toBeNull();
    // The count and the breached ones are the whole day's, not the rows shown.
    expect(screen.getByRole("status").textContent).toContain(`${total} work orders, 3 past`);

    screen.getByRole("button", { name: `Show ${PAGE_ROWS} more (${total - PAGE_ROWS} not shown)` }).click();
    expect(await screen.findByText(`WO-2026-${pad(PAGE_ROWS)}`)).toBeTruthy();
    expect(rows()).toBe(PAGE_ROWS * 2);
    screen.getByRole("button", { name: "Show 7 more (7 not shown)" }).click();
    expect(await screen.findByText(`WO-2026-${pad(total - 1)}`)).toBeTruthy();
    expect(rows()).toBe(total);
    expect(screen.queryByRole("button", { name: /^Show \d+ more/ })).toBeNull();
  });

  it("shows the next rows when the list is scrolled to its end", async () => {
    // jsdom has no IntersectionObserver: this stand-in reports what the browser would.
    const observers: { root: Element | null; fire: (visible: boolean) => void }[] = [];
    class StandIn {
      constructor(
        private callback: (entries: { isIntersecting: boolean }[]) => void,
        private options: { root?: Element | null } = {},
      ) {}
      observe() {
        observers.push({ root: this.options.root ?? null, fire: (v) => this.callback([{ isIntersecting: v }]) });
      }
      disconnect() {}
    }
    vi.stubGlobal("IntersectionObserver", StandIn);
    try {
      mockIPC(() => Array.from({ length: PAGE_ROWS + 3 }, (_, i) => summary(`WO-S-${i}`, "2026-03-14T11:00:00Z")));
      render(TodayOrders, { props: { clock: () => now } });
      await screen.findByText("WO-S-0");
      const rows = () => screen.getAllByRole("row").length - 1;
      expect(rows()).toBe(PAGE_ROWS);
      const watching = observers.at(-1)!;
      // Watched within the list's own scrolling region.
      expect(watching.root).toBe(screen.getByText("WO-S-0").closest("[role=region]"));
      expect(watching.root).not.toBeNull();
      watching.fire(false);
      await new Promise((r) => setTimeout(r, 10));
      expect(rows()).toBe(PAGE_ROWS);
      watching.fire(true);
      expect(await screen.findByText(`WO-S-${PAGE_ROWS + 2}`)).toBeTruthy();
      expect(rows()).toBe(PAGE_ROWS + 3);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("shows the command's error message", async () => {
    mockIPC(() => {
      throw { kind: "invalid", message: "date: '2026-02-30' is not a day" };
    });
    render(TodayOrders, { props: { clock: () => now } });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("'2026-02-30' is not a day");
  });

  it("switches language", async () => {
    mockIPC(() => [summary("WO-2026-0003", "2026-03-14T11:00:00Z")]);
    i18n.locale = "zh-CN";
    render(TodayOrders, { props: { clock: () => now } });
    expect(await screen.findByText("剩余 3小时0分钟")).toBeTruthy();
    expect(screen.getByRole("heading").textContent).toBe("今日工单");
  });

  it("reloads the list when a sync brings changes, and only then", async () => {
    let served = [summary("WO-2026-0004", "2026-03-14T11:00:00Z")];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "sync_status") throw { kind: "not_enrolled", message: "not in this test" };
      return served;
    });
    render(TodayOrders, { props: { clock: () => now } });
    await screen.findByText("WO-2026-0004");
    const loads = () => calls.filter((c) => c.cmd === "today_orders").length;
    expect(loads()).toBe(1);

    const finished = (changed: number): SyncEvent => ({
      event: "finished",
      pushed: 1,
      applied: 1,
      duplicates: 0,
      conflicts: 0,
      rejected: [],
      pulled: changed,
      changed,
      attachments_uploaded: 0,
      attachments_pending: [],
      bytes_up: 10,
      bytes_down: 10,
      duration_ms: 5,
    });
    // A sync that only pushed changes nothing on screen: no reload.
    sync.apply(finished(0));
    await new Promise((r) => setTimeout(r, 20));
    expect(loads()).toBe(1);

    // The office dispatched another order: it appears without pressing refresh.
    served = [...served, summary("WO-2026-0005", "2026-03-14T12:00:00Z")];
    sync.apply(finished(3));
    expect(await screen.findByText("WO-2026-0005")).toBeTruthy();
    expect(loads()).toBe(2);
  });
});
