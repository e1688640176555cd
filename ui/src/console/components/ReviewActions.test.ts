import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import ReviewActions from "./ReviewActions.svelte";
import { lang } from "../lib/locale.svelte";
import { reply, stubFetch } from "../test/fetch";

describe("ReviewActions", () => {
  beforeEach(() => {
    lang.locale = "en";
  });
  afterEach(() => vi.unstubAllGlobals());

  it("will not return an order without a note, and says what to write", async () => {
    const sent = stubFetch({});
    const onDone = vi.fn();
    render(ReviewActions, { props: { id: "wo-2", number: "WO-1002", onDone } });
    await fireEvent.click(screen.getByRole("button", { name: "Return to technician" }));
    expect(screen.getByRole("alert").textContent).toContain("the note is required to return the order");
    expect(screen.getByLabelText(/Note for WO-1002/).getAttribute("aria-invalid")).toBe("true");
    expect(sent).toHaveLength(0);
    expect(onDone).not.toHaveBeenCalled();
  });

  it("returns with the note, and approves without one", async () => {
    const sent = stubFetch({
      "POST /console/api/work-orders/wo-2/return": { id: "wo-2", number: "WO-1002", review_state: "returned" },
      "POST /console/api/work-orders/wo-3/approve": { id: "wo-3", number: "WO-1003", review_state: "approved" },
    });
    const onDone = vi.fn();
    const { unmount } = render(ReviewActions, { props: { id: "wo-2", number: "WO-1002", onDone } });
    await fireEvent.input(screen.getByLabelText(/Note for WO-1002/), { target: { value: "压力表读数漏记" } });
    await fireEvent.click(screen.getByRole("button", { name: "Return to technician" }));
    await vi.waitFor(() => expect(onDone).toHaveBeenCalledWith(expect.objectContaining({ review_state: "returned" })));
    expect(sent[0].body).toEqual({ note: "压力表读数漏记" });
    unmount();

    render(ReviewActions, { props: { id: "wo-3", number: "WO-1003", onDone } });
    await fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await vi.waitFor(() => expect(onDone).toHaveBeenCalledTimes(2));
    expect(sent[1].body).toEqual({});
    expect(sent[1].headers["X-Fieldbook-Console"]).toBe("1");
  });

  it("shows the server's refusal next to the buttons", async () => {
    stubFetch({ "POST /console/api/work-orders/wo-2/approve": reply(409, { error: { kind: "conflict", message: "WO-1002 was returned meanwhile" } }) });
    render(ReviewActions, { props: { id: "wo-2", number: "WO-1002", onDone: vi.fn() } });
    await fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Someone changed this meanwhile — reload and try again — WO-1002 was returned meanwhile");
  });

  it("offers the close exception when approving is refused for want of a signature, then approves as that exception", async () => {
    let approvals = 0;
    const sent = stubFetch({
      "POST /console/api/work-orders/wo-6/approve": () =>
        ++approvals === 1
          ? reply(422, { error: { kind: "not_signed", message: "work order WO-1006 has no customer signature of its current revision 1" } })
          : { id: "wo-6", number: "WO-1006", review_state: "approved" },
      "POST /console/api/work-orders/wo-6/close-exception": reply(201, { id: "wo-6.r1", kind: "refused_to_sign" }),
    });
    const onDone = vi.fn();
    render(ReviewActions, { props: { id: "wo-6", number: "WO-1006", onDone } });
    await fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect((await screen.findByRole("alert")).textContent).toContain("No customer signature — the order cannot be closed");
    // A paper voucher needs its photo: nothing is sent without it.
    await fireEvent.click(screen.getByLabelText("The customer signed a paper voucher"));
    await fireEvent.input(screen.getByLabelText("Reason (required)"), { target: { value: "signed the paper copy" } });
    await fireEvent.click(screen.getByRole("button", { name: "Record the exception and approve" }));
    expect(screen.getByText("A paper voucher needs a photo of the signed paper.")).toBeTruthy();
    expect(sent).toHaveLength(1);
    // Refused to sign: the reason is enough.
    await fireEvent.click(screen.getByLabelText("The customer refused to sign"));
    await fireEvent.click(screen.getByRole("button", { name: "Record the exception and approve" }));
    await vi.waitFor(() => expect(onDone).toHaveBeenCalledWith(expect.objectContaining({ review_state: "approved" })));
    expect(sent.map((x) => x.path)).toEqual([
      "/console/api/work-orders/wo-6/approve",
      "/console/api/work-orders/wo-6/close-exception",
      "/console/api/work-orders/wo-6/approve",
    ]);
    expect(sent[1].body).toEqual({ kind: "refused_to_sign", reason: "signed the paper copy" });
  });
});
