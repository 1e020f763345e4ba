// The demo panel's TOTP codes change every 30 s: reload the panel when they do (visible tabs only).
(function () {
  var left = document.querySelector("[data-seconds-left]");
  if (!left) return;
  var seconds = parseInt(left.getAttribute("data-seconds-left"), 10);
  var timer = setInterval(function () {
    seconds -= 1;
    if (seconds > 0) {
      left.textContent = String(seconds);
      return;
    }
    clearInterval(timer);
    if (document.visibilityState === "visible") {
      window.location.reload();
    } else {
      document.addEventListener("visibilitychange", function () { window.location.reload(); }, { once: true });
    }
  }, 1000);
})();
