// The payment page without this file is complete: plain forms. This fills the form from
// the test-card table, keeps the expiry and the name across a decline, counts down, and
// follows the session live (expired or finished
// elsewhere, the page shows it without a reload).
"use strict";
(function () {
  const summary = document.querySelector("[data-session]");
  if (!summary) return;
  const id = summary.dataset.session;

  document.querySelectorAll("button.fill").forEach(function (button) {
    button.addEventListener("click", function () {
      document.getElementById("number").value = button.dataset.number;
      const now = new Date();
      const month = String(now.getMonth() + 1).padStart(2, "0");
      document.getElementById("expiry").value = month + "/" + String((now.getFullYear() + 3) % 100).padStart(2, "0");
      document.getElementById("cvc").value = "123";
      document.getElementById("number").focus();
    });
  });

  // After a decline the form comes back (after a redirect, so that a reload sends nothing
  // twice) with the expiry and the name this tab typed put back; the number and the CVC
  // are never kept, here or anywhere.
  const form = document.querySelector("form.card");
  const kept = "payments_server:checkout:" + id;
  if (form) {
    try {
      const saved = JSON.parse(sessionStorage.getItem(kept) || "{}");
      sessionStorage.removeItem(kept);
      if (document.querySelector(".declined")) {
        ["expiry", "name"].forEach(function (name) {
          const input = document.getElementById(name);
          if (!input.value && typeof saved[name] === "string") input.value = saved[name];
        });
      }
      form.addEventListener("submit", function () {
        sessionStorage.setItem(kept, JSON.stringify({ expiry: document.getElementById("expiry").value, name: document.getElementById("name").value }));
      });
    } catch (error) { /* no storage in this browser: the fields are typed again */ }
  }

  const left = document.querySelector("[data-seconds]");
  if (left) {
    let seconds = Number(left.dataset.seconds);
    setInterval(function () {
      seconds = Math.max(0, seconds - 1);
      left.textContent = Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
    }, 1000);
  }

  if (summary.dataset.state !== "open" || !window.EventSource) return;
  const events = new EventSource((document.body.dataset.base || "") + "/checkout/sessions/" + encodeURIComponent(id) + "/events");
  // Once this page sends a form, the answer decides where the customer goes: the stream
  // must not reload the page under it when the payment it made ends the session.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () { events.close(); });
  });
  function reload() { events.close(); window.location.reload(); }
  events.addEventListener("session", function (event) {
    if (JSON.parse(event.data).state !== "open") reload();
  });
  events.addEventListener("gone", reload);
})();
