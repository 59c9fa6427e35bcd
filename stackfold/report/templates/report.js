// Sortable tables (click a header: descending, click again: ascending) and drop-downs showing one item of a group.
"use strict";
function sortTable(table, column, descending) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const key = (row) => row.cells[column].dataset.sort;
  const missing = (k) => k === "" || k === "-inf";
  // numeric only when every key is a whole number (Number("2026-12-02") is NaN, parseFloat would read 2026)
  const numeric = rows.every((row) => missing(key(row)) || Number.isFinite(Number(key(row))));
  const value = (k) => (missing(k) ? -Infinity : Number(k));
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    const order = numeric ? (value(x) > value(y)) - (value(x) < value(y)) : x.localeCompare(y);
    return descending ? -order : order;
  });
  rows.forEach((row) => body.appendChild(row));
}
document.querySelectorAll("table.sortable").forEach((table) => {
  table.querySelectorAll("th").forEach((th, column) => {
    th.addEventListener("click", () => {
      const descending = !th.classList.contains("sorted-desc");
      table.querySelectorAll("th").forEach((other) => other.classList.remove("sorted-asc", "sorted-desc"));
      th.classList.add(descending ? "sorted-desc" : "sorted-asc");
      sortTable(table, column, descending);
    });
  });
});
document.querySelectorAll("select[data-group]").forEach((select) => {
  const show = () => {
    document.querySelectorAll(`[data-group="${select.dataset.group}"][data-key]`).forEach((item) => {
      item.hidden = item.dataset.key !== select.value;
    });
  };
  select.addEventListener("change", show);
  show();
});
