// The ticket page: insert suggested answers and canned replies into the composer, shortcuts.
(() => {
  function insertInto(textarea, text) {
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? textarea.value.length;
    const before = textarea.value.slice(0, start);
    const separator = before && !before.endsWith("\n") ? "\n\n" : "";
    textarea.value = before + separator + text + textarea.value.slice(end);
    const caret = (before + separator + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
  }

  document.querySelectorAll("button.insert-text").forEach((button) => {
    button.addEventListener("click", () => {
      const textarea = document.getElementById(button.dataset.target);
      if (textarea) insertInto(textarea, button.dataset.text);
    });
  });

  const cannedButton = document.getElementById("canned-insert");
  if (cannedButton) {
    cannedButton.addEventListener("click", () => {
      const option = document.getElementById("canned-select").selectedOptions[0];
      const textarea = document.getElementById("reply-body");
      if (option && textarea) insertInto(textarea, option.dataset.text);
    });
  }

  function typing(event) {
    const target = event.target;
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  function go(id) {
    const link = document.getElementById(id);
    if (link) window.location.href = link.href;
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && typing(event)) { event.target.blur(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    switch (event.key) {
      case "t": { const form = document.getElementById("take-form"); if (form) form.requestSubmit(); else return; break; }
      case "r": { const box = document.getElementById("reply-body"); if (box) { box.focus(); box.scrollIntoView({ block: "center" }); } else return; break; }
      case "n": { const box = document.getElementById("note-body"); if (box) { box.focus(); box.scrollIntoView({ block: "center" }); } else return; break; }
      case "j": go("next-ticket"); break;
      case "k": go("previous-ticket"); break;
      case "q": window.location.href = document.querySelector(".ticket-nav a").href; break;
      default: return;
    }
    event.preventDefault();
  });

  if (window.location.hash === "#risposta") {
    const box = document.getElementById("reply-body");
    if (box) box.focus();
  }
})();
