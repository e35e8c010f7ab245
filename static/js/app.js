// Keyboard shortcuts and dialog focus handling; no inline scripts (strict CSP).
"use strict";
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  const box = document.querySelector("[data-search-box]");
  if (box) { event.preventDefault(); box.focus(); box.select(); }
});
// A fragment that brings a <dialog data-autoopen> opens it modally; closing it returns focus to the opener.
let lastOpener = null;
document.addEventListener("click", (event) => {
  const el = event.target instanceof Element ? event.target.closest("a, button") : null;
  if (el) lastOpener = el;
});
function openDialogs(root) {
  root.querySelectorAll("dialog[data-autoopen]").forEach((dialog) => {
    if (dialog.open) return;
    dialog.showModal();
    const focus = dialog.querySelector("[autofocus], textarea, input, button");
    if (focus) focus.focus();
    dialog.addEventListener("close", () => { dialog.remove(); if (lastOpener) lastOpener.focus(); }, { once: true });
  });
  root.querySelectorAll("[data-close-dialog]").forEach((button) => {
    button.addEventListener("click", (event) => { const d = button.closest("dialog"); if (d) { event.preventDefault(); d.close(); } });
  });
}
document.addEventListener("DOMContentLoaded", () => openDialogs(document));
document.addEventListener("htmx:afterSwap", (event) => openDialogs(event.target));
// Never leave a silently dead button: say so when a request fails without a page to show.
function flash(text) {
  const region = document.getElementById("flash");
  if (!region) return;
  const p = document.createElement("p");
  p.className = "flash flash--error";
  p.setAttribute("role", "alert");
  p.textContent = text;
  region.replaceChildren(p);
}
document.addEventListener("htmx:responseError", (event) => {
  flash(`The server could not complete that (HTTP ${event.detail.xhr.status}). Please try again; if it persists, reload the page.`);
});
document.addEventListener("htmx:sendError", () => flash("The dashboard could not be reached. Check your connection and try again."));
