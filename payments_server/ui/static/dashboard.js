// The dashboard follows GET /events (change notices) and fetches what changed from the
// JSON API, the same calls a script makes. Everything is written with textContent: nothing
// the gateway was sent is ever parsed as HTML.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const kept = Number(document.body.dataset.activitySize) || 1000;
  let entries = [];          // activity, newest first, as GET /activity gives them
  let lastSeq = 0;           // the newest activity entry seen
  let generation = 0;        // bumped by each full reload: answers to older asks are dropped
  let paused = false, unseen = 0;
  let source = null, pollTimer = null, retryTimer = null, refreshTimer = null;
  let openCallback = null, openOrder = null, callbackMessage = "";
  const dirty = new Set();

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    });
    children.forEach((child) => node.append(child));
    return node;
  }

  // The namespace's prefix (/ns/<name>), empty for the default: every call stays in it.
  const base = document.body.dataset.base || "";
  // The account's one currency: every API's amounts are in it.
  const currency = document.body.dataset.currency || "";
  // Wide enough for the payment's detail to sit beside the list (dashboard.css).
  const docked = window.matchMedia("(min-width: 64rem)");

  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      // A string is sent as it is: amounts keep the digits typed.
      options.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    const response = await fetch(base + path, options);
    const data = await response.json();
    data.httpStatus = response.status;
    return data;
  }

  // Times one way everywhere: the browser's local time, its UTC original on hover (title).
  // The time alone for today, the date too for any other day (a clock moved, a state file
  // from last week).
  function when(text) {
    if (!text) return "";
    const moment = new Date(text);
    return moment.toDateString() === new Date().toDateString() ? moment.toLocaleTimeString() : moment.toLocaleString();
  }
  function whenDay(text) { return text ? new Date(text).toLocaleString() : ""; }
  function words(kind) { return String(kind).replaceAll("_", " "); }
  // Money one way everywhere: two decimals (JSON.parse reads 33.10 as 33.1; amounts this
  // size are exact in a double to the cent).
  function money(value) { return Number(value).toFixed(2); }
  // Money with its currency, wherever an amount is shown on its own.
  function priced(value, named) { return money(value) + " " + (named || currency); }

  // ---- live updates -------------------------------------------------------------------
  function setConnection(text) { $("connection").textContent = text; }

  function connect() {
    if (source || document.hidden) return;
    source = new EventSource(base + "/events");
    source.addEventListener("open", () => { stopPolling(); setConnection("Live: following GET /events"); });
    source.addEventListener("message", (event) => {
      const notice = JSON.parse(event.data);
      if (notice.kind === "reset") { refreshAll(); return; }
      dirty.add(notice.kind);
      scheduleRefresh();
    });
    source.addEventListener("resync", refreshAll);
    source.addEventListener("error", () => {
      // A refused stream (503: too many open) is not retried by the browser: poll.
      if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        startPolling();
        retryTimer = setTimeout(() => { retryTimer = null; connect(); }, 10000);
      }
    });
  }

  function disconnect() {
    if (source) { source.close(); source = null; }
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    stopPolling();
  }

  function startPolling() {
    if (pollTimer) return;
    setConnection("Polling every 2 s (the event stream was refused)");
    pollTimer = setInterval(() => { ["request", "decision", "callback", "session"].forEach((k) => dirty.add(k)); refresh(); }, 2000);
  }

  function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }

  function scheduleRefresh() {
    if (!refreshTimer) refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 150);
  }

  async function refresh() {
    const kinds = new Set(dirty);
    dirty.clear();
    const jobs = [loadBalance(), loadActivity().then(loadPayments)];
    if (kinds.has("decision") || kinds.has("request")) jobs.push(loadPending());
    if (kinds.has("callback") || kinds.has("decision") || kinds.has("request")) jobs.push(loadCallbacks());
    if (kinds.has("session") || kinds.has("request") || kinds.has("decision")) jobs.push(loadSessions());
    if (kinds.has("request") || kinds.has("decision")) jobs.push(loadSimulation());
    if (kinds.has("clock") || kinds.has("request")) jobs.push(loadClock());
    if (openOrder !== null) jobs.push(showOrder(openOrder));
    if (openCallback !== null) jobs.push(showCallback(openCallback));
    await Promise.all(jobs);
  }

  async function refreshAll() {
    entries = []; lastSeq = 0; unseen = 0; generation += 1;
    ["request", "decision", "callback", "session", "clock"].forEach((k) => dirty.add(k));
    await refresh();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) { disconnect(); setConnection("Paused while this tab is hidden"); }
    else { refreshAll(); connect(); }
  });

  // ---- account --------------------------------------------------------------------------
  async function loadBalance() {
    const data = await api("GET", "/balance");
    // Cents, always: JSON.parse reads 50000.0 as 50000, and amounts this size are exact
    // in a double to the cent.
    $("balance").textContent = money(data.balance);
  }

  $("reveal-secret").addEventListener("click", async () => {
    const shown = $("reveal-secret").getAttribute("aria-pressed") === "true";
    // Asked for when wanted, from this page only: the secret is not in the page's HTML.
    $("secret").textContent = shown ? "whsec_••••••••" : (await api("GET", "/dashboard/secret")).secret;
    $("reveal-secret").setAttribute("aria-pressed", String(!shown));
    $("reveal-secret").textContent = shown ? "Reveal" : "Hide";
  });

  $("reset-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("reset-confirm").hidden = false;
    $("reset-yes").focus();
  });
  $("reset-no").addEventListener("click", () => { $("reset-confirm").hidden = true; });
  $("reset-yes").addEventListener("click", async () => {
    const text = $("reset-balance").value.trim();
    $("reset-confirm").hidden = true;
    if (text && !/^\d+(\.\d+)?$/.test(text)) {
      $("reset-result").textContent = "The balance must be a number such as 100 or 99.50; nothing was reset.";
      return;
    }
    const data = await api("POST", "/reset", text ? '{"balance": ' + text + "}" : undefined);
    $("reset-result").textContent = data.message;
    if (data.status !== "success") return;
    closeDetails();
    await refreshAll();
  });

  // ---- activity -------------------------------------------------------------------------
  async function loadActivity() {
    const asked = generation;
    const data = await api("GET", "/activity?limit=1000&since=" + lastSeq);
    if (asked !== generation) return;
    // Two asks may overlap: only what is newer than what is shown goes in.
    const fresh = data.activity.filter((entry) => entry.seq > lastSeq);
    if (!fresh.length) { if (!entries.length) render(); return; }
    lastSeq = fresh[0].seq;
    if (paused) unseen += fresh.length;
    entries = fresh.concat(entries).slice(0, kept);
    render();
  }

  function matches(entry) {
    const kind = $("filter-kind").value, order = $("filter-order").value.trim();
    const outcome = $("filter-outcome").value.trim();
    return (!kind || entry.kind === kind) && (!order || String(entry.order_id) === order)
      && (!outcome || entry.outcome === outcome);
  }

  function render() {
    const badge = $("new-count");
    badge.hidden = !paused || unseen === 0;
    badge.textContent = unseen + " new";
    if (paused) return;
    const list = $("activity-list");
    list.replaceChildren(...grouped(entries.filter(matches)).map(row));
    $("activity-empty").hidden = entries.length > 0;
  }

  function orderButton(orderId) {
    return el("button", { type: "button", class: "link", text: "order " + orderId, onclick: () => openOrderDrawer(orderId) });
  }

  // The attempts of one callback are one row: its newest attempt, and how many there were.
  function grouped(list) {
    const attempts = new Map();
    list.forEach((entry) => {
      const id = entry.kind === "callback" && entry.detail.delivery_id;
      if (id) attempts.set(id, (attempts.get(id) || 0) + 1);
    });
    const shown = new Set();
    return list.filter((entry) => {
      const id = entry.kind === "callback" && entry.detail.delivery_id;
      if (!id) return true;
      if (shown.has(id)) return false;
      shown.add(id);
      entry.attemptsShown = attempts.get(id);
      return true;
    });
  }

  function row(entry) {
    // A summary that starts with its order ("order X: paid") has the order as its link,
    // instead of the order named twice ("order X: paid order X").
    const named = entry.order_id !== null && entry.summary.startsWith("order " + entry.order_id);
    const summary = named
      ? el("span", { class: "summary" }, orderButton(entry.order_id),
        entry.summary.slice(("order " + entry.order_id).length))
      : el("span", { class: "summary", text: entry.summary });
    const item = el("li", { class: "entry " + entry.kind + " " + (entry.outcome || ""), "data-seq": entry.seq },
      el("time", { datetime: entry.at, title: entry.at, text: when(entry.at) }),
      el("span", { class: "kind", text: entry.kind }),
      summary);
    const detail = entry.detail;
    // Which API a request came through, when it is not the gateway's own.
    if (entry.kind === "request" && detail.api && detail.api !== "gateway") item.append(" ", el("span", { class: "badge api", text: detail.api }));
    if (entry.kind === "callback" && entry.attemptsShown > 1)
      item.append(" ", el("span", { class: "attempts", text: entry.attemptsShown + " attempts" }));
    if (entry.kind === "callback" && detail.next_attempt_at)
      item.append(" ", el("span", { class: "next", text: "next try " + when(detail.next_attempt_at) }));
    if (entry.order_id !== null && !named) item.append(" ", orderButton(entry.order_id));
    if (entry.kind === "request") {
      item.append(el("details", {}, el("summary", { text: "request and answer" }),
        el("pre", { class: "request-body", text: detail.request_body || "(no body)" }),
        el("pre", { class: "response-body", text: detail.response_body }),
        copyable("Copy as curl", detail.curl)));
    }
    return item;
  }

  function copyable(label, text) {
    const pre = el("pre", { class: "curl", text });
    const button = el("button", { type: "button", text: label, onclick: async () => {
      try { await navigator.clipboard.writeText(text); button.textContent = "Copied"; }
      catch (error) { window.getSelection().selectAllChildren(pre); button.textContent = "Selected: press Ctrl+C"; }
    } });
    return el("div", { class: "copy" }, button, pre);
  }

  ["filter-kind", "filter-order", "filter-outcome"].forEach((id) => $(id).addEventListener("input", render));
  $("activity-filters").addEventListener("submit", (event) => event.preventDefault());
  $("pause").addEventListener("click", () => {
    paused = !paused;
    $("pause").setAttribute("aria-pressed", String(paused));
    $("pause").textContent = paused ? "Resume" : "Pause";
    if (!paused) unseen = 0;
    render();
  });

  // ---- order detail ---------------------------------------------------------------------
  async function showOrder(orderId) {
    openOrder = orderId;
    const id = encodeURIComponent(orderId);
    const [record, activity, callbacks, sessions] = await Promise.all([
      api("GET", "/payments/orders/" + id), api("GET", "/activity?limit=1000&order_id=" + id),
      api("GET", "/callbacks?order_id=" + id), api("GET", "/checkout/sessions?order_id=" + id)]);
    const details = await Promise.all(callbacks.callbacks.map((c) => api("GET", "/callbacks/" + c.id)));
    const box = $("order-detail");
    box.replaceChildren();
    $("order-title").textContent = "Order " + orderId;
    const attempts = record.attempts || [];
    box.append(el("h3", { text: "Payment attempts" }),
      attempts.length ? el("ul", {}, ...attempts.map((a) => el("li", {},
        el("time", { datetime: a.at, title: a.at, text: when(a.at) }),
        " " + words(a.outcome) + " " + priced(a.amount) + (a.decline_code ? " (" + a.decline_code + ")" : "")))) :
        el("p", { text: record.message || "No payment reached the account." }));
    if (record.transaction) box.append(el("p", { text: "Paid " + priced(record.transaction.amount) + "; balance after: " + priced(record.transaction.balance_after) }));
    const refunds = record.refunds || [];
    if (refunds.length) box.append(el("h3", { text: "Refunds" }), el("ul", {}, ...refunds.map((r) =>
      el("li", { text: when(r.at) + " refunded " + priced(r.amount) }))));
    (sessions.sessions || []).forEach((s) => box.append(el("h3", { text: "Checkout session" }),
      el("p", {}, el("a", { href: base + "/checkout/" + encodeURIComponent(s.id), text: s.id }),
        " " + s.state + ", " + priced(s.amount, s.currency))));
    if (record.state === "pending") {
      box.append(el("p", { class: "pending", text: "The payment is pending: decide it now." }),
        ...decideButtons(orderId, () => showOrder(orderId)));
    }
    box.append(el("h3", { text: "Requests" }));
    // Each request, and each API fault it met on purpose (PUT /simulation api_faults).
    activity.activity.filter((e) => e.kind === "request" || e.outcome === "api_fault").forEach((e) => {
      if (e.kind === "request") {
        box.append(el("p", { text: when(e.at) + " " + e.summary }),
          copyable("Copy the payment request as curl", e.detail.curl));
      } else {
        box.append(el("p", { class: "api-fault" }, when(e.at) + " ",
          el("span", { class: "fault", title: "an API fault, on purpose (simulation)", text: "on purpose" }),
          " " + e.summary));
      }
    });
    box.append(el("h3", { text: "Callbacks" }));
    details.forEach((d) => box.append(deliveryDetail(d.callback)));
    $("order").hidden = false;
    markSelected();
  }

  // POST /payments/orders/<id>/decide: what the timer would do, now.
  function decideButtons(orderId, then) {
    const decide = (outcome) => async () => {
      await api("POST", "/payments/orders/" + encodeURIComponent(orderId) + "/decide", { outcome });
      await then();
    };
    return [el("button", { type: "button", text: "Decide: paid", onclick: decide("paid") }),
      el("button", { type: "button", text: "Decide: declined", onclick: decide("declined") })];
  }

  // On a narrow screen each row is a card (dashboard.css): every cell says its column.
  function labelCells(table) {
    const heads = [...table.tHead.rows[0].cells].map((th) => th.textContent);
    [...table.tBodies[0].rows].forEach((tr) => [...tr.cells].forEach((td, index) => {
      td.dataset.label = heads[index] || "";
    }));
  }

  // ---- pending payments -----------------------------------------------------------------
  async function loadPending() {
    const data = await api("GET", "/payments/orders?state=pending&limit=1000");
    $("pending-empty").hidden = data.orders.length > 0;
    $("pending-table").hidden = data.orders.length === 0;
    $("pending-table").tBodies[0].replaceChildren(...data.orders.map((o) => {
      const waiting = o.attempts[o.attempts.length - 1];
      return el("tr", {}, el("td", {}, orderButton(o.order_id)), el("td", { class: "amount", text: priced(waiting.amount) }),
        el("td", { text: when(waiting.at) }), el("td", {}, ...decideButtons(o.order_id, loadPending)));
    }));
    labelCells($("pending-table"));
  }

  // The order opens in a drawer over the page, wherever the click was, with its own URL
  // (#order=<id>) so that it can be linked and survives a reload.
  // The header's search: an order of any API (a PSP transaction's id and an article's or
  // the ticketing service's order are order ids), a checkout session (cs_…) or a callback
  // (msg_…), opened in the order drawer.
  async function findOrder(term) {
    const id = encodeURIComponent(term);
    if (term.startsWith("cs_")) {
      const found = await api("GET", "/checkout/sessions/" + id);
      return found.httpStatus === 200 ? found.session.order_id : null;
    }
    if (term.startsWith("msg_")) {
      const found = await api("GET", "/callbacks/" + id);
      return found.httpStatus === 200 ? found.callback.order_id : null;
    }
    const found = await api("GET", "/payments/orders/" + id);
    if (found.httpStatus === 200) return found.order_id;
    // An order with a checkout session nobody has tried to pay yet.
    const started = await api("GET", "/checkout/sessions?order_id=" + id);
    if ((started.sessions || []).length) return started.sessions[0].order_id;
    // A prepaid card (the card loader's id, "7" or "card 7"): its newest load, whose order
    // is card-<id>-load-<load>.
    const card = /^(?:card[ -]?)?(\d+)$/i.exec(term);
    if (!card) return null;
    const orders = await api("GET", "/payments/orders?limit=1000");
    const load = (orders.orders || []).find((o) => String(o.order_id).startsWith("card-" + card[1] + "-load-"));
    return load ? load.order_id : null;
  }

  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const term = $("search").value.trim();
    if (!term) return;
    const orderId = await findOrder(term);
    $("search-result").textContent = orderId === null ? "Nothing found for " + term : "";
    if (orderId !== null) await openOrderDrawer(orderId);
  });

  // Opened from anywhere on the page: the detail comes into view and takes the focus.
  function openOrderDrawer(orderId) {
    history.replaceState(null, "", "#order=" + encodeURIComponent(orderId));
    return showOrder(orderId).then(() => {
      $("order").scrollIntoView({ block: "nearest" });
      $("order-title").focus({ preventScroll: true });
    });
  }

  function closeOrder() {
    openOrder = null;
    $("order").hidden = true;
    markSelected();
    if (location.hash.startsWith("#order=")) history.replaceState(null, "", location.pathname + location.search);
  }

  function orderFromUrl() {
    if (!location.hash.startsWith("#order=")) return null;
    try { return decodeURIComponent(location.hash.slice("#order=".length)); } catch (error) { return null; }
  }

  $("order-close").addEventListener("click", closeOrder);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !$("order").hidden) closeOrder(); });
  window.addEventListener("hashchange", () => { const id = orderFromUrl(); if (id !== null) showOrder(id); });

  // ---- payments: one list across every API, the selected one's detail beside it ---------
  // Which API an order came through: the order says so (GET /payments/orders "api"); one
  // kept by an older version does not, and the activity log's oldest request about it may.
  function apiOf(order) {
    if (order.api) return order.api;
    const id = String(order.order_id);
    const request = entries.findLast((e) => e.kind === "request" && String(e.order_id) === id && e.detail.api);
    return request ? request.detail.api : "";
  }

  async function loadPayments() {
    const asked = generation;
    const [data, started] = await Promise.all([api("GET", "/payments/orders?limit=100"),
      api("GET", "/checkout/sessions?limit=100")]);
    if (asked !== generation || data.status !== "success") return;
    const rows = data.orders.map((o) => {
      const last = o.attempts[o.attempts.length - 1];
      return { id: String(o.order_id), state: o.state, at: last ? last.at : "", amount: last && last.amount,
        api: apiOf(o), code: last && last.decline_code };
    });
    // A checkout session nobody has tried to pay yet is a payment too: open, or ended
    // unpaid (expired, canceled). Its order has no record until someone tries.
    const listed = new Set(rows.map((row) => row.id));
    (started.sessions || []).forEach((s) => {
      if (listed.has(String(s.order_id))) return;
      listed.add(String(s.order_id));
      rows.push({ id: String(s.order_id), state: s.state, at: s.created_at, amount: s.amount,
        currency: s.currency, api: s.api });
    });
    rows.sort((a, b) => b.at.localeCompare(a.at));  // ISO 8601 in UTC: newest first
    $("payments-empty").hidden = rows.length > 0;
    // Redrawn live: the payment that had the keyboard's focus keeps it.
    const focused = $("payments-list").contains(document.activeElement) ? document.activeElement.dataset.order : null;
    $("payments-list").replaceChildren(...rows.slice(0, 100).map(paymentItem));
    markSelected();
    if (focused !== null) {
      const again = [...$("payments-list").querySelectorAll("button.payment")].find((b) => b.dataset.order === focused);
      if (again) again.focus();
    }
  }

  function paymentItem(row) {
    const facts = [row.amount !== undefined && row.amount !== null ? priced(row.amount, row.currency) : "",
      row.api, row.code].filter(Boolean).join(" · ");
    const button = el("button", { type: "button", class: "payment " + row.state, "data-order": row.id,
      "aria-controls": "order", onclick: () => choosePayment(row.id, !docked.matches) },
      el("span", { class: "payment-id", text: row.id }),
      el("span", { class: "payment-state", text: words(row.state) }),
      el("span", { class: "payment-facts", text: facts }),
      row.at ? el("time", { datetime: row.at, title: row.at, text: when(row.at) }) : "");
    return el("li", {}, button);
  }

  // From the list: beside it (the focus stays in the list for the arrow keys), or over the
  // page on a narrow screen, where the detail takes the focus.
  function choosePayment(orderId, focusDetail) {
    if (focusDetail) return openOrderDrawer(orderId);
    history.replaceState(null, "", "#order=" + encodeURIComponent(orderId));
    return showOrder(orderId);
  }

  function markSelected() {
    $("payments-list").querySelectorAll("button.payment").forEach((button) => {
      if (openOrder !== null && button.dataset.order === String(openOrder)) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    });
  }

  $("payments-list").addEventListener("keydown", (event) => {
    const buttons = [...$("payments-list").querySelectorAll("button.payment")];
    const at = buttons.indexOf(document.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (at < 0 || to === undefined || !buttons[to]) return;
    event.preventDefault();
    buttons[to].focus();
    // Beside the list, the detail follows the focus; over it (a phone), Enter opens it.
    if (docked.matches) choosePayment(buttons[to].dataset.order, false);
  });

  // ---- callbacks ------------------------------------------------------------------------
  async function loadCallbacks() {
    const data = await api("GET", "/callbacks");
    const counts = data.counts;
    $("callback-counts").textContent = "Delivered " + counts.delivered + " · Pending " + counts.pending + " · Failed " + counts.failed;
    $("callbacks-table").tBodies[0].replaceChildren(...data.callbacks.map((c) => el("tr", { "data-id": c.id, class: c.state },
      el("td", {}, orderButton(c.order_id)),
      el("td", {}, c.payment_status + " ", el("time", { datetime: c.created_at, title: c.created_at, text: when(c.created_at) })),
      el("td", { class: "state", text: c.state }),
      el("td", {}, String(c.attempts.length), ...faultBadges(c.attempts), ...lastAnswer(c.attempts)),
      el("td", { text: when(c.next_attempt_at) }),
      el("td", {}, ...callbackActions(c)))));
    labelCells($("callbacks-table"));
  }

  // The store's report card (POST /store-check): each check, and for a failed one what was
  // sent, what came back and the fix.
  $("store-check").addEventListener("click", async () => {
    const box = $("store-check-report");
    box.hidden = false;
    box.replaceChildren(el("p", { text: "Checking the store…" }));
    $("store-check").disabled = true;
    try {
      // The checks run on the gateway's own thread: ask until they are done.
      let report = await api("POST", "/store-check");
      while (report.state === "running") {
        await new Promise((resolve) => setTimeout(resolve, 250));
        report = await api("GET", "/store-check");
      }
      const marks = { true: "PASS", false: "FAIL", null: "SKIP" };
      const ran = report.checks.filter((c) => c.passed !== null).length;
      const failed = report.checks.filter((c) => c.passed === false).length;
      const skipped = report.checks.length - ran;
      // How many ran, how many failed, and what the skipped ones need, in the page's words.
      const summary = (failed ? "The store failed " + failed + " of the " + ran + " checks that ran."
        : "The store passed all " + ran + " checks that ran.")
        + (skipped ? " " + skipped + " more need an order to pay: run them from a terminal with"
          + " check-store and a command that makes one (docs/check-store.md)." : "");
      box.replaceChildren(el("p", { class: "result " + (report.passed ? "good" : "bad"), text: summary }),
        el("ul", { class: "checks" }, ...report.checks.map((c) => el("li", { class: "check " + marks[c.passed] },
          el("strong", { text: marks[c.passed] + " " + c.name }), " " + c.why,
          ...(c.passed === false ? [el("details", {}, el("summary", { text: "fix: " + c.fix }),
            el("pre", { text: c.sent }), el("p", { text: "received: " + c.received }))] : [])))));
    } finally {
      $("store-check").disabled = false;
    }
  });

  // Attempts sent wrong on purpose (PUT /simulation callback_faults) say so at a glance.
  function faultBadges(attempts) {
    return [...new Set(attempts.map((a) => a.fault).filter(Boolean))].map((fault) =>
      el("span", { class: "fault", title: "sent this way on purpose (simulation)", text: fault }));
  }

  function callbackActions(c) {
    const actions = [el("button", { type: "button", text: "Details", onclick: () => showCallback(c.id) }),
      el("button", { type: "button", text: "Resend", onclick: () => act("/callbacks/" + c.id + "/retry", c.id) })];
    if (c.state === "pending" && c.next_attempt_at)
      actions.push(el("button", { type: "button", text: "Retry now", onclick: () => act("/callbacks/" + c.id + "/retry-now", c.id) }));
    return actions;
  }

  async function act(path, id) {
    const data = await api("POST", path);
    $("callback-detail").hidden = false;
    await showCallback(id, data.message);
    await loadCallbacks();
  }

  async function showCallback(id, message) {
    // The answer to the last action stays shown while live updates redraw the detail.
    if (message !== undefined) callbackMessage = message;
    else if (id !== openCallback) callbackMessage = "";
    openCallback = id;
    const data = await api("GET", "/callbacks/" + id);
    const box = $("callback-detail");
    if (data.status !== "success") { box.hidden = true; openCallback = null; return; }
    box.replaceChildren(el("h3", { text: "Callback " + id }));
    if (callbackMessage) box.append(el("p", { class: "result", role: "status", text: callbackMessage }));
    box.append(deliveryDetail(data.callback),
      el("button", { type: "button", text: "Check a signature for it", onclick: () => { $("verify-id").value = id; $("verify-value").focus(); } }),
      el("button", { type: "button", text: "Close", onclick: () => { openCallback = null; box.hidden = true; } }));
    box.hidden = false;
  }

  // What the store answered the newest attempt: its status, or why there was none.
  function lastAnswer(attempts) {
    const last = attempts[attempts.length - 1];
    if (!last) return [];
    return [" ", el("span", { class: "last-answer", title: "the newest attempt's answer",
      text: last.status_code ? "HTTP " + last.status_code : last.error || "" })];
  }

  function deliveryDetail(c) {
    const last = c.attempts[c.attempts.length - 1];
    // Where it went: the account's callback URL, or the one its payment or session named.
    const to = last && last.request ? " to " + last.request.url : "";
    const box = el("div", { class: "delivery " + c.state },
      el("p", { text: c.id + ": " + c.payment_status + " for order " + c.order_id + to + ", " + c.state
        + (c.next_attempt_at ? ", next retry at " + when(c.next_attempt_at) : "") }));
    c.attempts.forEach((a, index) => {
      const answer = a.error ? a.error : "store answered " + a.status_code;
      const request = a.request;
      box.append(el("details", {}, el("summary", { text: "Attempt " + (index + 1) + " at " + when(a.at) + ": " + answer + " in " + a.duration_ms + " ms" },
        ...faultBadges([a])),
        el("p", { text: "POST " + request.url }),
        el("pre", { class: "headers", text: Object.entries(request.headers).map(([k, v]) => k + ": " + v).join("\n") }),
        el("pre", { class: "body", text: request.body }),
        copyable("Copy the callback as curl", request.curl),
        ...storeAnswer(a)));
    });
    return box;
  }

  function storeAnswer(a) {
    if (!a.response) return [];
    const headers = a.response.headers.map(([k, v]) => k + ": " + v).join("\n");
    return [el("p", { text: "The store answered " + a.status_code + ":" }),
      el("pre", { class: "headers answer", text: headers }),
      el("pre", { class: "body answer", text: a.response.body || "(no body)" })];
  }

  // ---- signature check ------------------------------------------------------------------
  $("verify-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("verify-value").value.trim();
    const body = value.startsWith("whsec_") ? { secret: value } : { signature: value };
    const data = await api("POST", "/callbacks/" + encodeURIComponent($("verify-id").value.trim()) + "/verify", body);
    const result = $("verify-result");
    result.className = "result " + (data.valid ? "good" : "bad");
    result.textContent = data.status === "success" ? (data.valid ? "Yes: " : "No: ") + data.message : data.message;
    const signed = $("verify-signed");
    signed.hidden = data.status !== "success";
    if (data.status === "success") signed.textContent = "Signed content: " + data.signed_content + "\nSent signature: " + data.sent_signature + "\nChecked signature: " + data.checked_signature;
  });

  // ---- simulation -----------------------------------------------------------------------
  // The form shows what is in force unless someone is editing it.
  let simulationEdited = false;
  $("simulation-form").addEventListener("input", () => { simulationEdited = true; });

  let apiFaults = [];

  async function loadSimulation() {
    const data = await api("GET", "/simulation");
    const s = data.simulation || data;
    const parts = [];
    if (s.decline_rate) parts.push("decline rate " + s.decline_rate + " (" + s.decline_code + ")");
    if (s.latency_ms) parts.push("latency " + s.latency_ms + " ms");
    if (s.rules && s.rules.length) parts.push(s.rules.length + (s.rules.length === 1 ? " rule" : " rules"));
    if (s.limit_per_payment !== null) parts.push("at most " + s.limit_per_payment + " per payment");
    if (s.limit_per_day !== null) parts.push("at most " + s.limit_per_day + " per 24 hours");
    if (s.pending_rate) parts.push("pending rate " + s.pending_rate);
    if (s.callback_faults && s.callback_faults.length)
      parts.push(s.callback_faults.length + (s.callback_faults.length === 1 ? " webhook fault" : " webhook faults"));
    // API faults have no field in the form: kept as a script set them, and saved back.
    apiFaults = s.api_faults || [];
    if (apiFaults.length) parts.push(apiFaults.length + (apiFaults.length === 1 ? " API fault" : " API faults"));
    $("simulation-summary").textContent = parts.join(", ") + ";";
    $("simulation-banner").hidden = parts.length === 0;
    if (!simulationEdited && data.status === "success") {
      $("sim-rate").value = String(s.decline_rate); $("sim-seed").value = s.seed === null ? "" : String(s.seed);
      $("sim-code").value = s.decline_code; $("sim-latency").value = String(s.latency_ms);
      $("sim-limit-payment").value = s.limit_per_payment === null ? "" : String(s.limit_per_payment);
      $("sim-limit-day").value = s.limit_per_day === null ? "" : String(s.limit_per_day);
      $("sim-rules").value = JSON.stringify(s.rules); $("sim-pending").value = String(s.pending_rate);
      $("sim-faults").value = JSON.stringify(s.callback_faults);
    }
  }

  // ---- clock ----------------------------------------------------------------------------
  async function loadClock() {
    const c = await api("GET", "/clock");
    if (c.status !== "success") return;
    $("clock-banner").hidden = c.real_time;
    $("clock-now").textContent = whenDay(c.now);
    $("clock-now").setAttribute("datetime", c.now);
    $("clock-now").title = c.now;
    $("clock-state").textContent = c.frozen ? "frozen" : "running ahead of real time";
    const next = c.scheduled[0];
    $("clock-next").textContent = next ? "next: " + words(next.kind) + " " + next.id + " at " + whenDay(next.due_at) : "nothing scheduled";
    $("clock-next").title = next ? next.due_at : "";
  }

  $("clock-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await api("POST", "/clock/advance", { seconds: Number($("clock-seconds").value) });
    $("clock-result").textContent = answer.status === "success"
      ? "ran " + answer.ran.length + (answer.ran.length === 1 ? " job" : " jobs")
      : answer.message;
    await loadClock();
  });

  $("clock-real").addEventListener("click", async () => {
    const answer = await api("PUT", "/clock", { real_time: true });
    $("clock-result").textContent = answer.status === "success"
      ? "Back on real time; ran " + answer.ran.length + (answer.ran.length === 1 ? " job" : " jobs")
      : answer.message;
    await loadClock();
  });

  function numberOr(text, fallback) { return text.trim() === "" ? fallback : Number(text); }

  $("simulation-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const lists = {};
    for (const [name, id] of [["rules", "sim-rules"], ["callback_faults", "sim-faults"]]) {
      try { lists[name] = JSON.parse($(id).value || "[]"); }
      catch (error) { $("simulation-result").textContent = $(id).labels[0].textContent.split(" (")[0] + " must be a JSON list: " + error.message; return; }
    }
    // Every setting is sent: PUT /simulation replaces them all, so none set elsewhere is lost.
    const body = { decline_rate: numberOr($("sim-rate").value, 0), seed: numberOr($("sim-seed").value, null),
      decline_code: $("sim-code").value.trim() || "card_declined", latency_ms: numberOr($("sim-latency").value, 0),
      rules: lists.rules, limit_per_payment: numberOr($("sim-limit-payment").value, null),
      limit_per_day: numberOr($("sim-limit-day").value, null), pending_rate: numberOr($("sim-pending").value, 0),
      callback_faults: lists.callback_faults };
    if (apiFaults.length) body.api_faults = apiFaults;
    const data = await api("PUT", "/simulation", body);
    $("simulation-result").textContent = data.message || (data.status === "success" ? "Saved." : "");
    if (data.status === "success") simulationEdited = false;
    await loadSimulation();
  });

  $("sim-off").addEventListener("click", async () => {
    const data = await api("PUT", "/simulation", {});
    ["sim-rate", "sim-latency"].forEach((id) => { $(id).value = "0"; });
    $("sim-seed").value = ""; $("sim-code").value = "card_declined"; $("sim-rules").value = "[]";
    $("sim-limit-payment").value = ""; $("sim-limit-day").value = "";
    $("sim-pending").value = "0"; $("sim-faults").value = "[]";
    simulationEdited = false;
    $("simulation-result").textContent = data.status === "success" ? "Simulation is off." : data.message;
    await loadSimulation();
  });

  // ---- checkout sessions ----------------------------------------------------------------
  async function loadSessions() {
    const data = await api("GET", "/checkout/sessions");
    $("sessions-table").tBodies[0].replaceChildren(...data.sessions.map((s) => el("tr", { "data-id": s.id },
      el("td", {}, el("a", { href: base + "/checkout/" + encodeURIComponent(s.id), text: s.id })),
      el("td", {}, orderButton(s.order_id)), el("td", { class: "amount", text: priced(s.amount, s.currency) }),
      el("td", { class: "api", text: s.api }),
      el("td", { class: "state", text: s.state }), el("td", { text: when(s.expires_at) }),
      el("td", {}, ...(s.state === "open" ? [el("button", { type: "button", text: "Expire",
        onclick: async () => { await api("POST", "/checkout/sessions/" + encodeURIComponent(s.id) + "/expire"); await loadSessions(); } })] : [])))));
    labelCells($("sessions-table"));
  }

  function closeDetails() {
    closeOrder();
    openCallback = null;
    $("callback-detail").hidden = true;
  }

  refreshAll();
  connect();
  if (orderFromUrl() !== null) showOrder(orderFromUrl());
})();
