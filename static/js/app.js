// godparents: small progressive enhancements. Served from this site only (CSP: script-src 'self').
"use strict";

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  // textContent keeps the line breaks of the address exactly.
  const text = source.textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const selection = window.getSelection();
    const range = document.createRange();
    range.selectNodeContents(source);
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = button.dataset.copied || label;
  setTimeout(() => { button.textContent = label; }, 2000);
});

// The pairing page's pickers: the results follow the typing (without JavaScript, the
// search button does the same). The server renders the list; it is escaped there.
document.querySelectorAll("[data-picker]").forEach((input) => {
  const target = document.querySelector(input.dataset.pickerTarget);
  if (!target) return;
  let timer = null;
  let latest = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const form = input.form;
      const params = new URLSearchParams(new FormData(form));
      params.set("part", input.dataset.picker);
      const asked = ++latest;
      const response = await fetch(`${form.action}?${params}`, { credentials: "same-origin" });
      if (!response.ok || asked !== latest) return;
      target.innerHTML = await response.text();
    }, 250);
  });
});

// A form sent back with mistakes: its error summary is read first, and a link in it puts
// the cursor in the field it names (the browser only scrolls to it).
const errorSummary = document.querySelector("[data-error-summary]");
if (errorSummary) {
  errorSummary.focus();
  errorSummary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus();
  });
}
