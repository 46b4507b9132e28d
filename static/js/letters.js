// The letter check, live: while a letter text is typed, the passages from the campaign's
// list of words that get letters withheld are listed below it with the reason, as the
// server's check (godparents/letters/check.py) finds them. It advises; it never blocks.
// The list comes in the text field's data-letter-check attribute: [[phrase, reason], ...].
(function () {
  "use strict";

  const LETTER = "[\\p{L}\\p{N}_]";

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function pattern(phrase) {
    const trimmed = phrase.trim();
    const stem = trimmed.endsWith("*");
    const words = trimmed.replace(/\*+$/, "").trim().split(/\s+/).map(escapeRegExp);
    const body = words.join("\\s+").replace(/[её]/gi, "[её]");
    return body + (stem ? LETTER + "*" : "(?!" + LETTER + ")");
  }

  function compile(words) {
    const usable = words
      .filter((word) => word[0].trim().replace(/\*+$/, "").trim())
      .sort((a, b) => b[0].length - a[0].length);
    if (!usable.length) {
      return null;
    }
    const groups = usable.map((word) => "(" + pattern(word[0]) + ")").join("|");
    return { regex: new RegExp("(?<!" + LETTER + ")(?:" + groups + ")", "giu"), usable };
  }

  function findings(text, compiled) {
    const found = [];
    for (const match of text.matchAll(compiled.regex)) {
      const index = match.slice(1).findIndex((group) => group !== undefined);
      found.push([match[0], index >= 0 ? compiled.usable[index][1] : ""]);
    }
    return found;
  }

  function attach(area) {
    let words;
    try {
      words = JSON.parse(area.dataset.letterCheck || "[]");
    } catch (error) {
      return;
    }
    const compiled = compile(words);
    if (!compiled) {
      return;
    }
    const list = document.createElement("ul");
    list.className = "small letter-check-live mt-2 mb-0";
    list.setAttribute("aria-live", "polite");
    list.dataset.checkLive = "";
    area.insertAdjacentElement("afterend", list);
    const update = () => {
      list.replaceChildren();
      for (const [text, reason] of findings(area.value, compiled)) {
        const item = document.createElement("li");
        const mark = document.createElement("mark");
        mark.textContent = text;
        item.append(mark, ": " + reason);
        list.append(item);
      }
    };
    area.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("textarea[data-letter-check]").forEach(attach);
  });
})();
