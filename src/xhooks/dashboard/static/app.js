// xhooks dashboard: local times, confirmations, the live tail. No build step, no dependencies.
"use strict";

function localize(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const moment = new Date(el.dateTime);
    if (!isNaN(moment)) el.textContent = moment.toLocaleString();
  }
}

function timeElement(epochSeconds) {
  const moment = new Date(epochSeconds * 1000);
  const el = document.createElement("time");
  el.dateTime = moment.toISOString();
  el.title = moment.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  el.textContent = moment.toLocaleString();
  return el;
}

function cell(row, content, className) {
  const td = row.insertCell();
  if (className) td.className = className;
  if (content instanceof Node) td.appendChild(content); else td.textContent = content;
  return td;
}

function element(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

function liveTail(table) {
  const body = table.tBodies[0];
  const status = document.getElementById("live-status");
  const setStatus = (text, kind) => { status.textContent = text; status.className = "pill " + kind; };
  const source = new EventSource(table.dataset.stream + "?after=" + encodeURIComponent(table.dataset.after));
  const count = (name) => { table.dataset[name] = String(Number(table.dataset[name] || 0) + 1); };
  source.onopen = () => { count("connections"); setStatus("live", "live"); };
  source.onerror = () => setStatus("reconnecting…", "connecting");
  source.addEventListener("gap", () => setStatus("live (older events skipped: see Events)", "live"));
  source.onmessage = (message) => {
    const e = JSON.parse(message.data);
    count("received");
    if (body.querySelector(`tr[data-id="${e.id}"]`)) return;
    const empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    const row = body.insertRow(0);
    row.dataset.id = e.id;
    row.className = "fresh";
    const link = element("a", String(e.id));
    link.href = table.dataset.events + e.id;
    cell(row, link);
    cell(row, timeElement(e.received_at));
    cell(row, element("code", e.type));
    cell(row, e.user || "—");
    cell(row, e.app);
    cell(row, element("span", e.status, "pill " + e.status));
    cell(row, String(e.duplicates), "num");
    while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
  };
}

document.addEventListener("DOMContentLoaded", () => {
  localize(document);
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => { if (!confirm(form.dataset.confirm)) event.preventDefault(); });
  }
  const live = document.getElementById("live");
  if (live) liveTail(live);
});
