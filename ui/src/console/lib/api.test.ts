import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, csvUrl, query, whenUnauthorized } from "./api";
import { reply, stubFetch } from "../test/fetch";

afterEach(() => {
  vi.unstubAllGlobals();
  whenUnauthorized(null);
});

describe("console API client", () => {
  it("sends the console header only on requests that change something", async () => {
    const sent = stubFetch({
      "GET /console/api/me": { login: "office", display_name: "Office", role: "office" },
      "POST /console/api/work-orders/wo%2F1/dispatch": { id: "wo/1", number: "C-1" },
    });
    await api.me();
    await api.dispatch("wo/1", "li.wei");
    expect(sent[0].headers["X-Fieldbook-Console"]).toBeUndefined();
    expect(sent[1].headers["X-Fieldbook-Console"]).toBe("1");
    expect(sent[1].headers["Content-Type"]).toBe("application/json");
    expect(sent[1].body).toEqual({ technician: "li.wei" });
  });

  it("turns the server's error body into an ApiError with its kind and message", async () => {
    stubFetch({ "POST /console/api/work-orders/x/return": reply(422, { error: { kind: "invalid", message: "note: write what to fix" } }) });
    const err = await api.returnOrder("x", "").catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.kind).toBe("invalid");
    expect(err.message).toBe("note: write what to fix");
  });

  it("reports an expired session, but not a failed login", async () => {
    const expired = vi.fn();
    whenUnauthorized(expired);
    stubFetch({
      "GET /console/api/review": reply(401, { error: { kind: "unauthorized", message: "log in" } }),
      "POST /console/api/login": reply(401, { error: { kind: "unauthorized", message: "wrong login or password" } }),
    });
    await expect(api.login("a", "b")).rejects.toMatchObject({ kind: "unauthorized" });
    expect(expired).not.toHaveBeenCalled();
    await expect(api.review()).rejects.toMatchObject({ status: 401 });
    expect(expired).toHaveBeenCalledOnce();
  });

  it("says 'network' when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("Failed to fetch"); }));
    await expect(api.me()).rejects.toMatchObject({ kind: "network", status: 0 });
  });

  it("builds queries without empty filters and CSV links without paging", () => {
    expect(query({ status: "", technician: "li.wei", after: null, limit: 50 })).toBe("?technician=li.wei&limit=50");
    expect(query({})).toBe("");
    expect(csvUrl("/work-orders", { region: "浦东", limit: 50, after: "abc" })).toBe(
      "/console/api/work-orders?region=%E6%B5%A6%E4%B8%9C&format=csv",
    );
    expect(csvUrl("/reports/response", { by: "day", from: "2026-03-01" })).toBe("/console/api/reports/response?by=day&from=2026-03-01&format=csv");
    // Chinese column headers when the console is in Chinese.
    expect(csvUrl("/reports/satisfaction", {}, "zh-CN")).toBe("/console/api/reports/satisfaction?format=csv&lang=zh");
  });
});
