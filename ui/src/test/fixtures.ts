/** A small work order with a checklist exercising every item kind, for component tests. */
import type { Asset, WorkOrderDetail } from "../lib/api";
import type { Template } from "../lib/checklist";

const t = (zh: string, en: string) => ({ zh, en });

export const template: Template = {
  code: "FP-PATROL",
  version: 2,
  title: t("巡检", "Patrol"),
  sections: [
    {
      key: "general",
      title: t("总体", "General"),
      items: [
        { key: "panel", label: t("控制柜", "Panel"), kind: "pass_fail", required: true },
        {
          key: "panel.fault",
          label: t("故障描述", "Fault"),
          kind: "text",
          required: true,
          show_if: { item: "panel", any_of: ["fail"] },
        },
        {
          key: "hazards",
          label: t("隐患", "Hazards"),
          kind: "multiple_choice",
          required: false,
          options: [
            { key: "none", label: t("无", "None") },
            { key: "blocked_exit", label: t("通道堵塞", "Blocked exit"), finding: true },
            { key: "wiring", label: t("线路老化", "Old wiring"), finding: true },
          ],
        },
        {
          key: "hazards.detail",
          label: t("隐患描述", "Hazard detail"),
          kind: "text",
          required: true,
          show_if: { item: "hazards", any_of: ["blocked_exit", "wiring"] },
        },
        {
          key: "hazards.where",
          label: t("隐患位置", "Where"),
          kind: "text",
          required: false,
          show_if: { item: "hazards.detail", any_of: ["B1"] },
        },
        { key: "next_visit", label: t("下次巡检", "Next visit"), kind: "date", required: false },
      ],
    },
    {
      key: "pumps",
      title: t("水泵", "Pumps"),
      per_asset_type: "fire_pump",
      items: [
        { key: "pump.pressure", label: t("压力", "Pressure"), kind: "numeric", unit: "MPa", min: 0.2, max: 1.2, required: true },
        { key: "pump.leak", label: t("无渗漏", "No leak"), kind: "pass_fail", required: true },
        {
          key: "pump.leak.where",
          label: t("渗漏部位", "Where it leaks"),
          kind: "text",
          required: true,
          show_if: { item: "pump.leak", any_of: ["fail"] },
        },
      ],
    },
  ],
};

function asset(id: string, code: string, type: string, name: string): Asset {
  return {
    id,
    code,
    site_id: "s1",
    asset_type: type,
    name,
    model: null,
    serial: null,
    location: null,
    installed_on: null,
    warranty_ends: null,
  };
}

export const assets: Asset[] = [
  asset("a-d1", "DET-1", "detector", "Detector"),
  asset("a-p1", "PUMP-1", "fire_pump", "1# pump"),
  asset("a-p2", "PUMP-2", "fire_pump", "2# pump"),
];

export function detail(extra: Partial<WorkOrderDetail> = {}): WorkOrderDetail {
  return {
    order: {
      id: "wo-1",
      number: "WO-1",
      kind: "patrol_inspection",
      customer_id: "c1",
      site_id: "s1",
      asset_ids: assets.map((a) => a.id),
      technician: "li.wei",
      priority: "normal",
      category: "B",
      status: "on_site",
      template_id: "tpl",
      problem: null,
      scheduled_on: "2026-03-14",
      reported_at: "2026-03-14T01:00:00Z",
      response_deadline: "2026-03-14T07:00:00Z",
      en_route_at: null,
      arrived_at: "2026-03-14T02:00:00Z",
      completed_at: null,
      revision: 1,
      follow_up_of: null,
    },
    customer: { id: "c1", code: "C1", name: "金桥国际商业广场", contact: null, phone: null, email: null },
    site: { id: "s1", code: "S1", customer_id: "c1", name: "A 座", address: "金桥路 1 号", region: "浦东", zone: "urban" },
    assets,
    template,
    answers: [],
    findings: [],
    missing: [],
    repairs: [],
    satisfaction: null,
    signatures: [],
    time_entries: [],
    follow_ups: [],
    history: [],
    escalations: [],
    corrections: [],
    ...extra,
  };
}
