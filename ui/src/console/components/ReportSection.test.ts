import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import ReportSection from "./ReportSection.svelte";
import { lang } from "../lib/locale.svelte";
import { reply, stubFetch } from "../test/fetch";

const report = {
  columns: [
    { key: "group", label_en: "Day", label_zh: "日期" },
    { key: "orders", label_en: "Orders", label_zh: "工单数" },
    { key: "met", label_en: "Met", label_zh: "按时" },
    { key: "met_rate", label_en: "Met rate", label_zh: "按时率" },
  ],
  rows: [{ group: "2026-03-14", orders: 4, met: 3, met_rate: 0.75 }],
};

describe("ReportSection", () => {
  beforeEach(() => {
    lang.locale = "zh-CN";
  });
  afterEach(() => vi.unstubAllGlobals());

  it("asks for the report with the filters and shows its table in the chosen language", async () => {
    const sent = stubFetch({ "GET /console/api/reports/response": report });
    render(ReportSection, { props: { name: "response", title: "响应承诺达成", filters: { from: "2026-03-01", to: "2026-03-31", technician: "li.wei", customer: "", region: "" } } });
    expect(await screen.findByRole("columnheader", { name: "按时率" })).toBeTruthy();
    expect(sent[0].path).toBe("/console/api/reports/response?from=2026-03-01&to=2026-03-31&technician=li.wei");
    expect(screen.getByText("75.0 %")).toBeTruthy();
    expect(screen.getByText("2026年3月14日")).toBeTruthy();
    // Same filters as CSV, every row, Chinese headers.
    expect(screen.getByTestId("csv-response").getAttribute("href")).toBe(
      "/console/api/reports/response?from=2026-03-01&to=2026-03-31&technician=li.wei&format=csv&lang=zh",
    );
  });

  it("says when the page shows only the first rows and the CSV has them all", async () => {
    stubFetch({ "GET /console/api/reports/response": { ...report, total_rows: 73000 } });
    render(ReportSection, { props: { name: "response", title: "x", filters: {} } });
    expect((await screen.findByTestId("first-rows-response")).textContent).toBe("仅显示前 1 行（共 73000 行）；导出的 CSV 含全部数据。");
    expect(screen.getByText("数据表（73000 行）")).toBeTruthy();
  });

  it("says so when the report cannot be loaded", async () => {
    stubFetch({ "GET /console/api/reports/response": reply(422, { error: { kind: "invalid", message: "from: not a date; use YYYY-MM-DD" } }) });
    render(ReportSection, { props: { name: "response", title: "x", filters: { from: "bad" } } });
    expect((await screen.findByRole("alert")).textContent).toBe("请更正 — from: not a date; use YYYY-MM-DD");
  });
});
