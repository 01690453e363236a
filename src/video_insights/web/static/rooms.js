// The rooms explorer: the add-filter form offers each field's own operators and values, and the
// columns panel folds away on narrow screens. Everything else is plain links and forms.
(function () {
  "use strict";

  function filterForm() {
    const source = document.getElementById("room-fields");
    const field = document.getElementById("filter-field");
    const op = document.getElementById("filter-op");
    const input = document.getElementById("filter-value");
    const choices = document.getElementById("filter-choices");
    if (!source || !field || !op || !input || !choices) return;
    const catalog = JSON.parse(source.textContent);
    const labels = {};
    for (const option of op.options) labels[option.value] = option.textContent;

    function offer() {
      const info = catalog[field.value];
      if (!info) return;
      const keep = op.value;
      op.replaceChildren(...info.operators.map((name) => new Option(labels[name], name)));
      op.value = info.operators.includes(keep) ? keep : info.operators[0];
      const values = info.type === "bool" ? [["true", "Yes"], ["false", "No"]] : info.choices;
      choices.replaceChildren(...values.map(([value, label]) => {
        const option = document.createElement("option");
        option.value = value;
        if (label !== value) option.label = label;
        return option;
      }));
      shape();
    }

    // Times are picked in the viewer's zone (the form's `_tz` tells the server which); numbers get a keypad.
    function shape() {
      const info = catalog[field.value];
      const type = info.type === "time" ? "datetime-local" : "text";
      if (input.type !== type) input.type = type;  // the browser drops a value the new type cannot hold
      const numeric = (info.type === "int" || info.type === "seconds") && op.value !== "in";
      input.inputMode = numeric ? "numeric" : "text";
      input.placeholder = info.type === "seconds" ? "seconds" : (op.value === "in" ? "a,b,c" : "");
    }

    field.addEventListener("change", offer);
    op.addEventListener("change", shape);
    offer();
  }

  function columnsPanel() {
    const panel = document.querySelector("details[data-columns]");
    if (panel && window.matchMedia("(max-width: 960px)").matches) panel.open = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    filterForm();
    columnsPanel();
  });
})();
