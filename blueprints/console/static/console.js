// Keyboard shortcuts of the console (no inline script: the CSP allows only files like this).
// On an item: a approve, r reject, x remove, s restore, c claim (buttons carry data-key).
// On a list: j / k move the selection, Enter opens it.
(function () {
  "use strict";

  function typing(event) {
    var tag = event.target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.target.isContentEditable;
  }

  function listRows() {
    var table = document.querySelector("[data-keyboard-list]");
    return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr")) : [];
  }

  var selected = -1;

  function select(index) {
    var rows = listRows();
    if (!rows.length) return;
    selected = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("selected", i === selected); });
    rows[selected].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    var button = document.querySelector('button[data-key="' + event.key + '"]');
    if (button) {
      event.preventDefault();
      button.click();
      return;
    }
    if (event.key === "j") select(selected + 1);
    else if (event.key === "k") select(selected - 1);
    else if (event.key === "Enter" && selected >= 0) {
      var link = listRows()[selected].querySelector("a");
      if (link) link.click();
    }
  });
})();
