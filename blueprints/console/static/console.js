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

// Upload forms (form[data-upload], the key import): sent by XHR so the page can show how much
// of the file has reached the server, then the answer's page takes the place of this one.
// The server imports once the whole file is in, so after 100% the form says it is importing.
// Without script the form posts as usual and the browser shows the same answer.
(function () {
  "use strict";

  function show(form, text, percent) {
    var bar = form.querySelector("progress");
    if (bar && percent !== undefined) {
      bar.hidden = false;
      bar.value = percent;
    }
    form.querySelector(".upload-state").textContent = text;
  }

  function replacePage(html) {
    var answer = new DOMParser().parseFromString(html, "text/html");
    var main = answer.querySelector("main");
    if (!main) return false;
    document.title = answer.title;
    document.querySelector("main").replaceWith(document.importNode(main, true));
    return true;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-upload")) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable) return;
      var percent = Math.floor((progress.loaded / progress.total) * 100);
      show(form, "Uploading: " + percent + "% (" + progress.loaded + " of " + progress.total + " bytes)", percent);
    });
    xhr.upload.addEventListener("load", function () {
      show(form, "Uploaded: importing…", 100);
    });
    xhr.addEventListener("load", function () {
      if (!replacePage(xhr.responseText)) {
        show(form, "The server answered " + xhr.status + ": reload and retry.");
        button.disabled = false;
      }
    });
    xhr.addEventListener("error", function () {
      show(form, "The upload failed (connection lost): retry.");
      button.disabled = false;
    });
    button.disabled = true;
    show(form, "Uploading…", 0);
    xhr.send(new FormData(form));
  });
})();
