// The queue page: keyboard shortcuts, selection kept across live refreshes, and an opt-in
// sound and desktop notification when new tickets arrive.
(() => {
  const NOTIFY_KEY = "dialoga.queue.notify";
  let selectedRef = null;
  let lastNewCount = 0;
  const baseTitle = document.title;

  const rows = () => Array.from(document.querySelectorAll("#queue-results tbody tr[data-ref]"));

  function typing(event) {
    const target = event.target;
    return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  }

  function select(row) {
    rows().forEach((r) => { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    if (!row) return;
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    selectedRef = row.dataset.ref;
    row.scrollIntoView({ block: "nearest" });
  }

  function selectedRow() {
    return rows().find((r) => r.dataset.ref === selectedRef) || null;
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.indexOf(selectedRow());
    const next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(index + step, 0), all.length - 1);
    select(all[next]);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    const row = selectedRow();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter": case "o": if (row) window.location.href = row.dataset.url; else return; break;
      case "r": if (row) window.location.href = row.dataset.url + "#risposta"; else return; break;
      case "t": {
        const form = row && row.querySelector("form.take-form");
        if (form) form.requestSubmit(); else return;
        break;
      }
      case "n": window.location.href = document.querySelector("a[href$='/coda/prossimo']").href; break;
      case "/": document.getElementById("q").focus(); break;
      default: return;
    }
    event.preventDefault();
  });

  // Notifications: off unless the operator turns them on (remembered in this browser).
  const toggle = document.getElementById("notify-toggle");
  const notifying = () => localStorage.getItem(NOTIFY_KEY) === "on";
  if (toggle) {
    toggle.checked = notifying();
    toggle.addEventListener("change", async () => {
      localStorage.setItem(NOTIFY_KEY, toggle.checked ? "on" : "off");
      if (toggle.checked && "Notification" in window && Notification.permission === "default") {
        await Notification.requestPermission();
      }
    });
  }

  function beep() {
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch (error) { /* no audio: the badge still shows */ }
  }

  function announce(count) {
    document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
    if (count <= lastNewCount) { lastNewCount = count; return; }
    const added = count - lastNewCount;
    lastNewCount = count;
    if (!notifying()) return;
    beep();
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification("Dialoga — nuovi ticket", {
        body: added === 1 ? "È arrivato un nuovo ticket in coda." : `Sono arrivati ${added} nuovi ticket in coda.`,
        tag: "dialoga-queue",
      });
    }
  }

  document.body.addEventListener("htmx:afterSwap", () => {
    const results = document.getElementById("queue-results");
    if (!results) return;
    announce(parseInt(results.dataset.newCount || "0", 10));
    const row = selectedRow();
    if (row) select(row);
  });
})();
