// imagesmith studio: the page over the REST API (/api). No framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token");
const SCALES = { restore: ["1", "2", "4"], upscale: ["2", "3", "4"] };
const DEFAULT_SCALE = { restore: "1", upscale: "4" };

const state = {
  task: "restore",
  file: null,          // the input image (File or Blob)
  inputURL: null,      // object URL of the input
  models: {},          // /api/models
  job: null,           // the running job's id
  resultURL: null,
  tool: "paint",
  brush: 24,
  undo: [], redo: [],
  batch: null,         // {files, index}
};

// -- API -------------------------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers.Authorization = "Bearer " + token;
  const r = await fetch(path, Object.assign({}, options, { headers }));
  if (!r.ok) {
    let message = r.status + " " + r.statusText;
    try { message = (await r.json()).error || message; } catch (e) { /* not JSON */ }
    const err = new Error(message);
    err.status = r.status;
    throw err;
  }
  return r;
}

function say(text, isError = false) {
  const m = $("message");
  m.textContent = text;
  m.className = isError ? "error" : "";
}

// -- tabs and parameters ---------------------------------------------------------------------

function setTask(task) {
  state.task = task;
  document.body.className = "task-" + task;
  for (const b of document.querySelectorAll("#tabs button")) {
    b.classList.toggle("active", b.dataset.task === task);
    b.setAttribute("aria-selected", b.dataset.task === task);
  }
  for (const f of document.querySelectorAll("fieldset[data-for]")) {
    f.hidden = !f.dataset.for.split(" ").includes(task);
  }
  $("input-box").hidden = task === "generate";
  if (SCALES[task]) {
    $("scale").innerHTML = SCALES[task].map((s) => `<option value="${s}">x${s}</option>`).join("");
    $("scale").value = DEFAULT_SCALE[task];
  }
  fillModels();
  if (task === "inpaint" && state.file) setupMask();
}

function fillModels() {
  const list = state.models[state.task] || [];
  const scale = SCALES[state.task] ? $("scale").value : null;
  const options = ['<option value="">default</option>'];
  for (const m of list) {
    if (scale && m.scale && String(m.scale) !== scale) continue;
    options.push(`<option value="${m.name}">${m.name}${m.default ? " (default)" : ""}</option>`);
  }
  $("model").innerHTML = options.join("");
}

function formFields() {
  const data = new FormData($("params"));
  const fields = { task: state.task };
  for (const [k, v] of data.entries()) {
    const el = $("params").elements[k];
    const box = el && (el.closest ? el.closest("fieldset[data-for]") : null);
    if (box && box.hidden) continue;   // only the active tab's parameters
    if (v !== "") fields[k] = v;
  }
  if (state.task === "generate") fields.walk = $("params").elements.walk.checked ? "true" : "false";
  return fields;
}

// -- input: drop, paste, pick, folder ----------------------------------------------------------

function setInput(file) {
  if (!file || !file.type.startsWith("image/")) { say("That is not an image.", true); return; }
  state.file = file;
  if (state.inputURL) URL.revokeObjectURL(state.inputURL);
  state.inputURL = URL.createObjectURL(file);
  $("input-name").textContent = file.name || "pasted image";
  document.body.dataset.image = "1";
  showResult(null);
  $("before").onload = () => { if (state.task === "inpaint") setupMask(); };
  $("before").src = state.inputURL;
  say("");
}

function initInput() {
  const drop = $("drop");
  $("file").addEventListener("change", (e) => setInput(e.target.files[0]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    if (e.dataTransfer.files.length) setInput(e.dataTransfer.files[0]);
  });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter") $("file").click(); });
  window.addEventListener("paste", (e) => {
    for (const item of e.clipboardData.items) {
      if (item.type.startsWith("image/")) { setInput(item.getAsFile()); return; }
    }
  });
  $("folder").addEventListener("change", (e) => {
    const files = [...e.target.files].filter((f) => f.type.startsWith("image/"));
    if (!files.length) { say("No images in that folder.", true); return; }
    state.batch = { files, index: 0, done: 0, failed: 0 };
    say(`Batch: ${files.length} images`);
    runBatch();
  });
}

// -- the mask (inpaint) ----------------------------------------------------------------------

const mask = () => $("mask-canvas");

function setupMask() {
  const img = $("before");
  if (!img.naturalWidth) return;
  const c = mask();
  if (c.width !== img.naturalWidth || c.height !== img.naturalHeight) {
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    state.undo = []; state.redo = [];
  }
}

function snapshot() {
  const c = mask();
  state.undo.push(c.getContext("2d").getImageData(0, 0, c.width, c.height));
  if (state.undo.length > 30) state.undo.shift();
  state.redo = [];
}

function restoreFrom(from, to) {
  const c = mask(), ctx = c.getContext("2d");
  if (!from.length) return;
  to.push(ctx.getImageData(0, 0, c.width, c.height));
  ctx.putImageData(from.pop(), 0, 0);
}

function maskPoint(e) {
  const c = mask(), r = c.getBoundingClientRect();
  return [(e.clientX - r.left) * c.width / r.width, (e.clientY - r.top) * c.height / r.height,
          c.width / r.width];
}

function stroke(from, to, scale) {
  const ctx = mask().getContext("2d");
  ctx.globalCompositeOperation = state.tool === "erase" ? "destination-out" : "source-over";
  ctx.strokeStyle = ctx.fillStyle = "rgb(255, 40, 40)";
  ctx.lineWidth = state.brush * scale; ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath(); ctx.moveTo(from[0], from[1]); ctx.lineTo(to[0], to[1]); ctx.stroke();
}

function initMask() {
  const c = mask();
  let last = null;
  c.addEventListener("pointerdown", (e) => {
    if (!state.file) return;
    c.setPointerCapture(e.pointerId); snapshot();
    last = maskPoint(e); stroke(last, last, last[2]);
  });
  c.addEventListener("pointermove", (e) => {
    if (!last) return;
    const p = maskPoint(e); stroke(last, p, p[2]); last = p;
  });
  const end = () => { last = null; };
  c.addEventListener("pointerup", end); c.addEventListener("pointercancel", end);
  $("viewer").addEventListener("wheel", (e) => {
    if (!e.altKey || state.task !== "inpaint") return;
    e.preventDefault();
    setBrush(state.brush * (e.deltaY < 0 ? 1.15 : 1 / 1.15));
  }, { passive: false });
  $("brush").addEventListener("input", (e) => setBrush(+e.target.value));
  $("paint").onclick = () => setTool("paint");
  $("erase").onclick = () => setTool("erase");
  $("undo").onclick = () => restoreFrom(state.undo, state.redo);
  $("redo").onclick = () => restoreFrom(state.redo, state.undo);
  $("clear").onclick = () => { snapshot(); c.getContext("2d").clearRect(0, 0, c.width, c.height); };
  $("invert").onclick = () => {
    snapshot();
    const ctx = c.getContext("2d"), d = ctx.getImageData(0, 0, c.width, c.height);
    for (let i = 0; i < d.data.length; i += 4) {
      const on = d.data[i + 3] > 0;
      d.data[i] = 255; d.data[i + 1] = 40; d.data[i + 2] = 40; d.data[i + 3] = on ? 0 : 255;
    }
    ctx.putImageData(d, 0, 0);
  };
  $("opacity").addEventListener("input", (e) => { c.style.opacity = e.target.value; });
  $("mask-file").addEventListener("change", (e) => {
    const f = e.target.files[0];
    if (!f) return;
    const img = new Image();
    img.onload = () => {
      snapshot();
      const ctx = c.getContext("2d");
      const tmp = document.createElement("canvas");
      tmp.width = c.width; tmp.height = c.height;
      const t = tmp.getContext("2d");
      t.drawImage(img, 0, 0, c.width, c.height);
      const d = t.getImageData(0, 0, c.width, c.height);
      for (let i = 0; i < d.data.length; i += 4) {
        const on = d.data[i] + d.data[i + 1] + d.data[i + 2] > 3 * 127;
        d.data[i] = 255; d.data[i + 1] = 40; d.data[i + 2] = 40; d.data[i + 3] = on ? 255 : 0;
      }
      ctx.putImageData(d, 0, 0);
    };
    img.src = URL.createObjectURL(f);
  });
  document.addEventListener("keydown", (e) => {
    if (state.task !== "inpaint" || !(e.ctrlKey || e.metaKey)) return;
    if (e.key === "z") { e.preventDefault(); restoreFrom(state.undo, state.redo); }
    if (e.key === "y") { e.preventDefault(); restoreFrom(state.redo, state.undo); }
  });
}

function setBrush(size) {
  state.brush = Math.max(2, Math.min(200, Math.round(size)));
  $("brush").value = state.brush; $("brush-out").textContent = state.brush;
}

function setTool(tool) {
  state.tool = tool;
  $("paint").classList.toggle("on", tool === "paint");
  $("erase").classList.toggle("on", tool === "erase");
}

function maskBlob() {
  // White where painted, black elsewhere: the API's mask (white = fill).
  const c = mask(), out = document.createElement("canvas");
  out.width = c.width; out.height = c.height;
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height);
  let painted = 0;
  for (let i = 0; i < d.data.length; i += 4) {
    const on = d.data[i + 3] > 127;
    painted += on;
    d.data[i] = d.data[i + 1] = d.data[i + 2] = on ? 255 : 0; d.data[i + 3] = 255;
  }
  out.getContext("2d").putImageData(d, 0, 0);
  return new Promise((resolve) => out.toBlob((b) => resolve(painted ? b : null), "image/png"));
}

// -- jobs --------------------------------------------------------------------------------------

async function submit(file) {
  const body = new FormData();
  for (const [k, v] of Object.entries(formFields())) body.append(k, v);
  if (state.task !== "generate") body.append("image", file, file.name || "image.png");
  if (state.task === "inpaint") {
    const m = await maskBlob();
    if (!m) throw new Error("Paint over what should go (or upload a mask) first.");
    body.append("mask", m, "mask.png");
  }
  return (await api("/api/jobs", { method: "POST", body })).json();
}

function progress(job) {
  $("progress").hidden = false;
  $("bar-fill").style.width = Math.round(100 * job.progress) + "%";
  const eta = job.eta_seconds != null ? ` · ${Math.ceil(job.eta_seconds)} s left` : "";
  $("progress-text").textContent = job.state === "queued" ? "queued" : Math.round(100 * job.progress) + "%" + eta;
}

async function follow(id) {
  state.job = id;
  $("cancel").hidden = false; $("run").disabled = true;
  try {
    for (;;) {
      const job = await (await api("/api/jobs/" + id)).json();
      progress(job);
      if (job.state === "done" || job.state === "failed" || job.state === "cancelled") return job;
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    state.job = null;
    $("cancel").hidden = true; $("run").disabled = false;
  }
}

async function fetchResult(job) {
  const blob = await (await api(job.result)).blob();
  return URL.createObjectURL(blob);
}

async function runOnce() {
  if (state.task !== "generate" && !state.file) { say("Pick an image first.", true); return; }
  say("");
  try {
    const job = await follow((await submit(state.file)).id);
    await finish(job, state.inputURL);
  } catch (e) {
    say(e.message, true);
  }
}

async function finish(job, inputURL) {
  if (job.state !== "done") {
    say(job.state === "cancelled" ? "Cancelled." : "Failed: " + job.error, job.state === "failed");
    addHistory(job, null, inputURL);
    return;
  }
  const url = await fetchResult(job);
  if (job.task === "inpaint") {  // the filled area is what to look at now (Undo brings the mask back)
    const c = mask();
    snapshot();
    c.getContext("2d").clearRect(0, 0, c.width, c.height);
  }
  showResult(url, job);
  addHistory(job, url, inputURL);
  say(`Done: ${job.task}` + (job.note ? ` (${job.note})` : ""));
}

async function runBatch() {
  const b = state.batch;
  for (; b.index < b.files.length; b.index++) {
    const f = b.files[b.index];
    setInput(f);
    say(`Batch ${b.index + 1} / ${b.files.length}: ${f.webkitRelativePath || f.name}`);
    let sent = null;
    while (!sent) {
      try { sent = await submit(f); } catch (e) {
        if (e.status === 429) { await new Promise((r) => setTimeout(r, 1000)); continue; }
        b.failed++; say(`${f.name}: ${e.message}`, true); break;
      }
    }
    if (!sent) continue;
    const job = await follow(sent.id);
    await finish(job, state.inputURL);
    job.state === "done" ? b.done++ : b.failed++;
  }
  say(`Batch finished: ${b.done} done, ${b.failed} failed (download each from the history).`);
  state.batch = null;
}

// -- result: before/after, zoom, download, history --------------------------------------------

function showResult(url, job) {
  state.resultURL = url;
  const after = $("after"), before = $("before");
  $("after-clip").hidden = !url;
  $("download").hidden = !url;
  $("slider-box").hidden = !url || !state.file || (job && job.task === "generate");
  if (!url) return;
  document.body.dataset.image = "1";
  after.onload = () => {
    // The input is drawn at the result's size, so the two line up under the slider.
    before.width = after.naturalWidth; before.height = after.naturalHeight;
    if (job && job.task === "generate") before.removeAttribute("src");
  };
  after.src = url;
  const ext = job && job.params && job.params.walk ? "gif" : "png";
  $("download").href = url;
  $("download").download = `imagesmith-${job ? job.task : "result"}.${ext}`;
  setSlider($("slider").value);
}

function setSlider(v) {
  $("after-clip").style.clipPath = `inset(0 0 0 ${v}%)`;
}

function addHistory(job, url, inputURL) {
  const li = document.createElement("li");
  li.className = job.state === "done" ? "" : "failed";
  const img = document.createElement("img");
  img.src = url || inputURL || "";
  img.alt = job.task;
  li.append(img, `${job.task} · ${job.state}`);
  li.onclick = () => { if (url) { $("before").src = inputURL || ""; showResult(url, job); } };
  $("history").prepend(li);
}

// -- start ---------------------------------------------------------------------------------

async function start() {
  for (const b of document.querySelectorAll("#tabs button")) b.onclick = () => setTask(b.dataset.task);
  $("scale").addEventListener("change", fillModels);
  $("params").elements.strength.addEventListener("input", (e) => { $("strength-out").textContent = e.target.value; });
  $("run").onclick = runOnce;
  $("cancel").onclick = () => { if (state.job) api("/api/jobs/" + state.job, { method: "DELETE" }); };
  $("slider").addEventListener("input", (e) => setSlider(e.target.value));
  $("zoom").onclick = () => {
    const fit = $("viewer").classList.toggle("fit");
    $("zoom").classList.toggle("on", !fit);
  };
  initInput();
  initMask();
  try {
    state.models = await (await api("/api/models")).json();
  } catch (e) {
    say(e.status === 401 ? "This server needs its token: open the URL it printed (…/?token=…)." : e.message, true);
  }
  setTask("restore");
}

start();
