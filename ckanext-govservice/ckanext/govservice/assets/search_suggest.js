/* Suggestions while typing in the service search box (issue 15): titles, output
   names and synonyms from the govservice_suggest action, offered through a
   <datalist>. An enhancement only: without JavaScript the form submits as before
   and the results page offers "did you mean" links itself. */
(function () {
  "use strict";
  var input = document.querySelector('form.search-form input[name="q"], form#dataset-search-form input[name="q"]');
  if (!input || !window.fetch) { return; }
  var list = document.createElement("datalist");
  list.id = "govservice-suggestions";
  input.parentNode.appendChild(list);
  input.setAttribute("list", list.id);
  input.setAttribute("autocomplete", "off");
  var timer = null, asked = "";
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.trim();
      if (!q || q === asked) { return; }
      asked = q;
      fetch("/api/3/action/govservice_suggest?limit=8&q=" + encodeURIComponent(q))
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) {
          if (!answer || !answer.success || q !== input.value.trim()) { return; }
          list.textContent = "";
          answer.result.suggestions.forEach(function (s) {
            var option = document.createElement("option");
            option.value = s;
            list.appendChild(option);
          });
        })
        .catch(function () { /* typing help is optional */ });
    }, 200);
  });
}());
