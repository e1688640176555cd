import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import ReturnVisits from "./ReturnVisits.svelte";
import { lang } from "../lib/locale.svelte";
import { stubFetch, type Sent } from "../test/fetch";
import type { ReturnVisit } from "../lib/api";

const visit: ReturnVisit = {
  id: "wo-2.rv", work_order_id: "wo-2", number: "WO-1002", problem: "泵房漏水", technician: "li.wei", technician_name: "李伟 Li Wei",
  customer_id: "c-1", customer_name: "徐汇水厂", in_warranty: true, completed_at: "2026-03-02T01:30:00Z", due_on: "2026-03-05",
  overdue: true, status: "open", visited_at: null, solved: null, new_call_id: null, new_call_number: null, has_card: false,
};

describe("ReturnVisits", () => {
  let sent: Sent[];
  beforeEach(() => {
    lang.locale = "en";
    sent = stubFetch({
      "GET /console/api/return-visits": { items: [visit], next: null },
      "GET /console/api/technicians": [],
      "POST /console/api/return-visits/wo-2.rv": { ...visit, status: "done", solved: false, new_call_id: "wo-9", new_call_number: "C-20260305-0001", has_card: true },
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("lists the visits due, overdue marked, and records one not solved with the card by phone", async () => {
    render(ReturnVisits);
    const record = await screen.findByRole("button", { name: "Record the call for WO-1002" });
    expect(screen.getByText("Overdue")).toBeTruthy();
    expect(screen.getByText("in warranty")).toBeTruthy();
    await fireEvent.click(record);
    await fireEvent.input(screen.getByLabelText("Who answered (name, title)"), { target: { value: "陈经理" } });
    await fireEvent.click(screen.getByLabelText("Not solved"));
    await fireEvent.click(screen.getByRole("button", { name: "Save the return visit" }));
    expect(screen.getByText("Write what is still wrong: it becomes the new call.")).toBeTruthy();
    expect(sent.filter((s) => s.method === "POST")).toHaveLength(0);
    await fireEvent.input(screen.getByLabelText(/What is still wrong/), { target: { value: "still leaks" } });
    await fireEvent.click(screen.getByLabelText("Take the satisfaction card by phone"));
    for (const [k, v] of [["Attitude", "3"], ["Skill", "2"], ["Arrival on time", "4"], ["Kept promises", "2"]] as const) {
      await fireEvent.change(screen.getByLabelText(k), { target: { value: v } });
    }
    await fireEvent.click(screen.getByRole("button", { name: "Save the return visit" }));
    await screen.findByText("Return visit for WO-1002 recorded; new urgent call C-20260305-0001 waits for dispatch.");
    const post = sent.find((s) => s.method === "POST")!;
    expect(post.body).toEqual({ answered_by: "陈经理", solved: false, note: "still leaks", card: { attitude: 3, skill: 2, arrival: 4, promise: 2 } });
  });
});
