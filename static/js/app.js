// Keyboard shortcuts, focus after every htmx swap, dialogs, reveal/hide; no inline scripts (strict CSP).
"use strict";

// "/" jumps to the user search from anywhere: the box on /users/, or /users/ itself from other pages.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  if (document.querySelector("dialog[open]")) return;
  const box = document.querySelector("[data-search-box]");
  if (box) { event.preventDefault(); box.focus(); box.select(); return; }
  const url = document.body.dataset.searchUrl;
  if (url) { event.preventDefault(); window.location.assign(url); }
});

// Back/forward through htmx searches: the restored page keeps the results, so the box shows their query too.
document.addEventListener("htmx:historyRestore", () => {
  const box = document.querySelector("[data-search-box]");
  if (box) box.value = new URLSearchParams(window.location.search).get("q") || "";
});

// The element that opened a dialog or panel (a Remove link, the Enroll button), to return focus to it.
let opener = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  const elt = event.detail.elt;
  if (elt instanceof HTMLElement && !elt.closest("dialog") && !elt.closest("#enroll-panel")) opener = elt;
});
function focusBack() {
  if (opener && opener.isConnected) { opener.focus(); return; }
  const heading = document.getElementById("auth-h");  // the opener's row may be gone (it was removed)
  if (heading) heading.focus();
}

// A fragment that brings a <dialog data-autoopen> opens it modally; closing it (Escape too) gives focus back.
function openDialogs(root) {
  root.querySelectorAll("dialog[data-autoopen]").forEach((dialog) => {
    if (dialog.open) return;
    dialog.showModal();
    const focus = dialog.querySelector('[aria-invalid="true"], [autofocus], textarea, input:not([type=hidden]), button');
    if (focus) focus.focus();
    dialog.addEventListener("close", () => { dialog.remove(); focusBack(); }, { once: true });
  });
}
document.addEventListener("click", (event) => {
  const el = event.target instanceof Element ? event.target : null;
  if (!el) return;
  const close = el.closest("[data-close-dialog]");
  const dialog = close && close.closest("dialog");
  if (dialog) { event.preventDefault(); dialog.close(); return; }
  const cancel = el.closest("[data-close-panel]");
  const panel = cancel && document.getElementById("enroll-panel");
  if (panel && panel.contains(cancel)) { event.preventDefault(); panel.replaceChildren(); focusBack(); return; }
  const hide = el.closest("[data-hide-contact]");
  if (hide) {  // put the masked value (and its Reveal button) back, from the <template> the reveal brought
    const contact = document.getElementById(hide.dataset.hideContact);
    const template = contact && contact.querySelector("template");
    if (template) { contact.replaceChildren(template.content.cloneNode(true)); window.htmx.process(contact); contact.querySelector("button")?.focus(); }
  }
});

// After every swap, focus goes where the change is: the first invalid field, or what the answer marks.
document.addEventListener("htmx:afterSettle", (event) => {
  const target = event.detail.target || event.target;
  openDialogs(document);
  const inDialog = target instanceof Element && target.querySelector("dialog[open]");
  if (inDialog) return;  // openDialogs has placed focus inside it
  const invalid = target instanceof Element ? target.querySelector('[aria-invalid="true"]') : null;
  const marked = document.querySelector("[data-focus-now]");
  if (marked) marked.removeAttribute("data-focus-now");
  if (invalid) invalid.focus();
  else if (marked) marked.focus();
});
document.addEventListener("DOMContentLoaded", () => openDialogs(document));

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
