// MassGen's web interface: ask a question and watch the agents work, browse and export conversations.
// It talks only to this server's own API (/v1/...), with the token the user gives (kept for the tab
// only, in sessionStorage). Text from models and the store is put in the page with textContent,
// never as HTML, so nothing an answer says can run here.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { controller: null, panels: new Map(), started: 0, cost: 0, timer: null };

function token() { return sessionStorage.getItem("massgen-token") || ""; }

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (token()) headers.set("Authorization", "Bearer " + token());
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    $("token-form").hidden = false;
    $("token").focus();
    throw new Error("this server needs its API token: enter it above");
  }
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

// -- asking ----------------------------------------------------------------------------------

function panel(agentId) {
  let p = state.panels.get(agentId);
  if (p) return p;
  const root = el("div", "agent");
  root.dataset.agent = agentId;
  const title = el("h3");
  const name = el("span", "", agentId);
  const badge = el("span", "badge", "waiting");
  title.append(name, badge);
  const meta = el("div", "muted", "0 tokens");
  const text = el("div", "text");
  const answer = el("div", "answer");
  answer.hidden = true;
  const log = el("ul", "log");
  root.append(title, meta, text, answer, log);
  $("agents").append(root);
  p = { root, badge, meta, text, answer, log, tokens: 0 };
  state.panels.set(agentId, p);
  return p;
}

function setBadge(p, label, kind) {
  p.badge.textContent = label;
  p.badge.className = "badge " + (kind || "");
}

function note(p, text) { p.log.append(el("li", "", text)); }

function tick() {
  const seconds = ((performance.now() - state.started) / 1000).toFixed(1);
  $("status").textContent = `running · ${seconds} s · $${state.cost.toFixed(4)}`;
}

const handlers = {
  session_started(e) { e.agent_ids.forEach((id) => panel(id)); },
  agent_started(e) {
    const p = panel(e.agent_id);
    p.text.textContent = "";
    setBadge(p, e.attempt > 1 ? `thinking (attempt ${e.attempt})` : "thinking");
  },
  text_delta(e) { panel(e.agent_id).text.append(e.text); },
  answer_submitted(e) {
    const p = panel(e.agent_id);
    setBadge(p, `answered (r${e.revision})`, "answered");
    p.answer.textContent = e.text;  // stays shown while the agent goes on (its stream area is cleared)
    p.answer.hidden = false;
    p.text.textContent = "";
    note(p, `submitted answer ${e.revision} as ${e.label}`);
  },
  answer_rejected(e) { note(panel(e.agent_id), "answer rejected: " + e.reason); },
  vote_cast(e) {
    const p = panel(e.voter);
    setBadge(p, "voted", "voted");
    note(p, `voted for ${e.target}` + (e.reason ? `: ${e.reason}` : ""));
  },
  vote_discarded(e) { note(panel(e.voter), "vote discarded: " + e.reason); },
  agent_restarted(e) {
    const p = panel(e.agent_id);
    setBadge(p, "restarted");
    note(p, "restarted: " + e.reason);
  },
  agent_failed(e) {
    const p = panel(e.agent_id);
    setBadge(p, "failed", "failed");
    note(p, "failed: " + e.error);
  },
  backend_retry(e) { note(panel(e.agent_id), `retry ${e.attempt} in ${e.delay_s.toFixed(1)} s: ${e.error}`); },
  backend_fallback(e) { note(panel(e.agent_id), `fell back from ${e.from_backend} to ${e.to_backend}`); },
  usage_reported(e) {
    const p = panel(e.agent_id);
    p.tokens += (e.input_tokens || 0) + (e.output_tokens || 0);
    p.meta.textContent = `${e.backend} · ${e.model || "-"} · ${p.tokens.toLocaleString()} tokens`;
    state.cost += e.cost_usd || 0;
  },
  winner_selected(e) {
    const box = $("winner");
    box.textContent = "";
    box.append(el("strong", "", `Winner: ${e.winner}`), el("span", "muted", ` (${e.strategy})`));
    const tally = Object.entries(e.tally || {}).map(([agent, score]) => `${agent} ${score}`).join(" · ");
    if (tally) box.append(el("div", "", "Tally: " + tally));
    const reasons = el("ul", "log");
    Object.entries(e.reasons || {}).forEach(([voter, reason]) => {
      if (reason) reasons.append(el("li", "", `${voter}: ${reason}`));
    });
    box.append(reasons);
    box.hidden = false;
    const p = state.panels.get(e.winner);
    if (p) p.root.classList.add("won");
    $("final-box").hidden = false;
  },
  final_answer_delta(e) { $("final-box").hidden = false; $("final").append(e.text); },
  session_finished(e) {
    if (e.final_answer !== null && !$("final").textContent) $("final").textContent = e.final_answer;
    $("final-box").hidden = e.final_answer === null;
    $("summary").textContent = `ended by ${e.ended_by} · ${e.duration_s.toFixed(1)} s · $${e.cost_usd.toFixed(4)}`;
    if (e.final_answer === null) showError(`no answer (${e.ended_by}): ${e.error || "no agent answered"}`);
  },
};

function resetAsk() {
  state.panels.clear();
  state.cost = 0;
  $("agents").textContent = "";
  $("winner").hidden = true;
  $("final-box").hidden = true;
  $("final").textContent = "";
  $("summary").textContent = "";
  showError("");
}

function* frames(buffer) {
  // Complete server-sent events in `buffer.text`; what is left stays for the next read.
  let end;
  while ((end = buffer.text.indexOf("\n\n")) !== -1) {
    const frame = buffer.text.slice(0, end);
    buffer.text = buffer.text.slice(end + 2);
    let type = "message";
    const data = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith("event:")) type = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length) yield [type, JSON.parse(data.join("\n"))];
  }
}

async function ask(question) {
  resetAsk();
  state.controller = new AbortController();
  state.started = performance.now();
  state.timer = setInterval(tick, 200);
  $("ask").disabled = true;
  $("stop").disabled = false;
  try {
    const response = await api("/v1/sessions", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ question }),
      signal: state.controller.signal,
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const buffer = { text: "" };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer.text += value;
      for (const [type, data] of frames(buffer)) {
        const handle = handlers[type];
        if (handle) handle(data);
      }
    }
    $("status").textContent = "done";
  } catch (err) {
    if (err.name === "AbortError") $("status").textContent = "stopped";
    else { showError(err.message); $("status").textContent = ""; }
  } finally {
    clearInterval(state.timer);
    $("ask").disabled = false;
    $("stop").disabled = true;
    state.controller = null;
  }
}

// -- conversations ---------------------------------------------------------------------------

function when(seconds) { return new Date(seconds * 1000).toLocaleString(); }

async function loadConversations(query) {
  const list = $("conversations");
  list.textContent = "";
  $("conversation").hidden = true;
  const params = new URLSearchParams({ limit: "50" });
  if (query) params.set("q", query);
  try {
    const data = await (await api("/v1/conversations?" + params)).json();
    if (!data.conversations.length) list.append(el("li", "muted", query ? "Nothing matches." : "No conversations yet."));
    for (const c of data.conversations) {
      const item = el("li");
      item.tabIndex = 0;
      item.dataset.id = c.id;
      item.append(el("strong", "", c.title || "(untitled)"));
      const winner = c.winner ? ` · winner ${c.winner}` : "";
      item.append(el("div", "muted", `${when(c.started_at)} · ${c.turns} turn(s) · $${c.cost_usd.toFixed(4)}${winner}`));
      if (c.snippet) item.append(el("div", "text muted", c.snippet));
      item.addEventListener("click", () => openConversation(c.id));
      item.addEventListener("keydown", (ev) => { if (ev.key === "Enter") openConversation(c.id); });
      list.append(item);
    }
  } catch (err) {
    list.append(el("li", "error", err.message));
  }
}

async function openConversation(id) {
  const doc = await (await api("/v1/conversations/" + encodeURIComponent(id))).json();
  $("conversation").dataset.id = doc.conversation.id;
  $("conversation-title").textContent = doc.conversation.title || doc.conversation.id;
  const turns = $("turns");
  turns.textContent = "";
  for (const t of doc.turns) {
    const box = el("section", "turn");
    box.append(el("h3", "", `Turn ${t.turn}: ${t.question}`));
    box.append(el("div", "muted", `ended by ${t.ended_by || "-"} · winner ${t.winner || "-"} · $${(t.cost_usd || 0).toFixed(4)}`));
    if (t.final_answer !== null) box.append(el("div", "text", t.final_answer));
    else box.append(el("div", "error", t.error || "no answer"));
    const votes = el("ul", "log");
    for (const v of t.votes || []) {
      votes.append(el("li", "", `${v.voter} → ${v.target || "-"}` + (v.reason ? `: ${v.reason}` : "")));
    }
    box.append(votes);
    turns.append(box);
  }
  $("conversation").hidden = false;
}

async function exportConversation(format) {
  const id = $("conversation").dataset.id;
  try {
    const response = await api(`/v1/conversations/${encodeURIComponent(id)}/export?format=${encodeURIComponent(format)}`);
    const blob = await response.blob();
    const name = (response.headers.get("content-disposition") || "").match(/filename="([^"]+)"/);
    const link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = name ? name[1] : `conversation-${id.slice(0, 8)}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  } catch (err) {
    $("turns").prepend(el("p", "error", err.message));
  }
}

// -- wiring ----------------------------------------------------------------------------------

function show(view) {
  for (const name of ["ask", "history"]) {
    $("view-" + name).hidden = name !== view;
    $("tab-" + name).classList.toggle("active", name === view);
  }
  if (view === "history") loadConversations($("search").value.trim());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", () => show(tab.dataset.view)));
  $("ask-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const question = $("question").value.trim();
    if (question && !state.controller) ask(question);
  });
  $("question").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) $("ask-form").requestSubmit();
  });
  $("stop").addEventListener("click", () => { if (state.controller) state.controller.abort(); });
  $("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadConversations($("search").value.trim()); });
  document.querySelectorAll(".exports button").forEach((b) => b.addEventListener("click", () => exportConversation(b.dataset.format)));
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("massgen-token", $("token").value.trim());
    $("token").value = "";
    $("token-form").hidden = true;
  });
});
