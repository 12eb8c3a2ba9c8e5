// The officials' page: manage the knowledge base's documents (upload, see what the assistant reads,
// correct metadata, re-index, delete), try a question, save it as a test case, run every saved case and
// open the report; follow (and cancel) the knowledge base's update jobs. Every call carries the admin
// token, which lives only in this tab's sessionStorage.

const BASE = "/api/v1/admin";
const TOKEN_KEY = "xiangyin-admin-token";
const NETWORK_MESSAGE = "网络连接断开了，请检查网络后再试一次。";
const SERVER_MESSAGE = "服务器暂时出了点问题，请稍后再试。";
const POLL_MS = 1000;

const PROBLEMS = {
  missing_document: "缺少文档：知识库里没有回答这个问题所需的文件。",
  retrieval_miss: "没有检索到：含答案的段落没有排进前 5 名。",
  wrongly_refused: "该答却拒答：找到了含答案的段落，助手却说文件里没有。",
  answer_composition: "答案没说到点上：回答里缺少应有的内容。",
  should_refuse: "该拒答却回答：文件里没有答案，助手却作了回答。",
  error: "运行出错。",
};

const SCORE_NAMES = [
  ["keywords_ok", "关键词都答到了"],
  ["citation_ok", "引用正确"],
  ["hit_at_1", "检索命中@1"],
  ["hit_at_5", "检索命中@5"],
  ["number_accuracy", "数字准确率"],
  ["char_f1", "字符F1"],
  ["rouge_l", "ROUGE-L"],
];

const SUMMARY_NAMES = [
  ["pass_rate", "通过率", "percent"],
  ["keyword_accuracy", "关键词准确率", "percent"],
  ["citation_correctness", "引用正确率", "percent"],
  ["hit_at_5", "检索命中@5", "percent"],
  ["refusal_recall", "拒答召回率", "percent"],
  ["latency_p50_ms", "响应时间中位数", "ms"],
];

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

async function call(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${token()}` } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, "network", NETWORK_MESSAGE);
  }
  if (!response.ok) {
    let error = { code: `http_${response.status}`, message: SERVER_MESSAGE };
    try {
      const parsed = await response.json();
      if (parsed && parsed.error && parsed.error.message) error = parsed.error;
    } catch {
      // Not our JSON error body: keep the general message.
    }
    throw new ApiError(response.status, error.code, error.message);
  }
  return response;
}

async function callJson(method, path, body) {
  return (await call(method, path, body)).json();
}

function showMessage(text) {
  const box = $("message");
  box.textContent = text;
  box.hidden = !text;
}

function handle(error) {
  if (!(error instanceof ApiError)) throw error;
  if (error.status === 401 || error.status === 403) {
    signOut();
  }
  showMessage(error.message);
}

function words(text) {
  return text.split(/[\s,，、;；]+/).map((word) => word.trim()).filter(Boolean);
}

function percent(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`;
}

function scoreText(value) {
  if (value === null || value === undefined) return null;
  if (value === true) return "是";
  if (value === false) return "否";
  return value.toFixed(2);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// The answer text with its [n] marks set off, built from text nodes only.
function renderAnswer(target, text) {
  target.replaceChildren();
  for (const part of text.split(/(\[\d+\])/)) {
    if (/^\[\d+\]$/.test(part)) target.append(element("span", "cite", part));
    else if (part) target.append(document.createTextNode(part));
  }
}

function fillScores(list, pairs) {
  list.replaceChildren();
  for (const [name, value] of pairs) {
    list.append(element("dt", "", name), element("dd", "", value));
  }
  list.hidden = pairs.length === 0;
}

// Signing in

function signIn(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
  $("sign-out").hidden = false;
}

function signOut() {
  clearTimeout(jobsTimer);
  documents = [];
  $("doc-panel").hidden = true;
  sessionStorage.removeItem(TOKEN_KEY);
  $("sign-in").hidden = false;
  $("workspace").hidden = true;
  $("sign-out").hidden = true;
  $("token").value = "";
}

async function enter(value) {
  signIn(value);
  try {
    await loadDocuments();
    await loadCases();
    watchJobs();
    await showLatestRun();
    showMessage("");
    return true;
  } catch (error) {
    handle(error);
    return false;
  }
}

// Trying a question

let draft = null;

function readDraft() {
  const expected = $("expected").value.trim();
  return {
    question: $("question").value.trim(),
    answer: expected || null,
    answer_keywords: words($("keywords").value),
    tags: words($("tags").value),
    should_refuse: $("should-refuse").checked,
  };
}

function showTry(result) {
  renderAnswer($("try-answer"), result.answer.answer);
  const verdict = $("verdict");
  if (result.passed === null) {
    verdict.hidden = true;
  } else {
    verdict.hidden = false;
    verdict.className = `verdict ${result.passed ? "pass" : "fail"}`;
    verdict.textContent = result.passed
      ? "✓ 答对了"
      : `✗ 没答对。${PROBLEMS[result.problem] || ""}`;
  }
  const scores = result.scores || {};
  fillScores(
    $("scores"),
    SCORE_NAMES.map(([key, name]) => [name, scoreText(scores[key])]).filter(([, value]) => value !== null),
  );

  const citations = $("citations");
  citations.replaceChildren();
  for (const citation of result.answer.citations) {
    const item = element("li");
    item.value = citation.number;
    const where = [citation.title, citation.section].filter(Boolean).join(" › ");
    item.append(element("div", "passage-head", `${citation.source}${where ? "：" + where : ""}`));
    item.append(element("p", "passage-text", citation.quote));
    citations.append(item);
  }
  $("citations-block").hidden = result.answer.citations.length === 0;

  const passages = $("passages");
  passages.replaceChildren();
  for (const passage of result.ranking) {
    const item = element("li", "passage");
    const head = element("div", "passage-head");
    head.append(element("span", "passage-score", `得分 ${passage.score.toFixed(3)}`));
    head.append(element("span", "", passage.source));
    const where = [passage.title, passage.section].filter(Boolean).join(" › ");
    if (where) head.append(element("span", "", where));
    if (passage.relevant) head.append(element("span", "passage-relevant", "✓ 含依据"));
    item.append(head, element("p", "passage-text", passage.text));
    passages.append(item);
  }
  if (result.ranking.length === 0) passages.append(element("li", "hint", "没有检索到段落（问候、感谢等不查文件）。"));
  $("save-status").textContent = "";
  $("save-case").disabled = false;
  $("try-result").hidden = false;
}

async function tryQuestion(event) {
  event.preventDefault();
  const body = readDraft();
  if (!body.question) return;
  const button = $("try-button");
  button.disabled = true;
  button.textContent = "正在问…";
  showMessage("");
  try {
    const result = await callJson("POST", "/evals/try", body);
    draft = body;
    showTry(result);
  } catch (error) {
    handle(error);
  } finally {
    button.disabled = false;
    button.textContent = "试一试";
  }
}

async function saveCase() {
  if (!draft) return;
  const status = $("save-status");
  const body = readDraft();
  // What was tried is saved, with any expectation added since.
  body.question = draft.question;
  if (!body.answer && body.answer_keywords.length === 0 && !body.should_refuse) {
    status.textContent = "请先写上正确答案或答案里必须有的词，再保存。";
    return;
  }
  $("save-case").disabled = true;
  try {
    const saved = await callJson("POST", "/evals/cases", body);
    status.textContent = `已保存为测试题（编号 ${saved.id}）。`;
    showMessage("");
    await loadCases();
  } catch (error) {
    $("save-case").disabled = false;
    handle(error);
  }
}

// Saved cases

async function loadCases() {
  const cases = await callJson("GET", "/evals/cases");
  const list = $("case-list");
  list.replaceChildren();
  for (const saved of cases) {
    const item = element("li", "case");
    item.dataset.id = saved.id;
    const row = element("div", "case-row");
    const text = element("div");
    text.append(element("div", "case-question", saved.question || "（录音题）"));
    const details = [];
    if (saved.answer) details.push(`答案：${saved.answer}`);
    if (saved.answer_keywords && saved.answer_keywords.length) details.push(`必须有：${saved.answer_keywords.join("、")}`);
    if (saved.should_refuse) details.push("应该说不知道");
    if (saved.tags && saved.tags.length) details.push(`标签：${saved.tags.join("、")}`);
    if (details.length) text.append(element("div", "case-detail", details.join(" · ")));
    const remove = element("button", "danger", "删除");
    remove.type = "button";
    remove.setAttribute("aria-label", `删除测试题：${saved.question}`);
    remove.addEventListener("click", () => deleteCase(saved));
    row.append(text, remove);
    item.append(row);
    list.append(item);
  }
  $("case-count").textContent = String(cases.length);
  $("no-cases").hidden = cases.length > 0;
  $("run-all").disabled = cases.length === 0;
}

async function deleteCase(saved) {
  if (!window.confirm(`确定删除这道测试题吗？\n${saved.question}`)) return;
  try {
    await callJson("DELETE", `/evals/cases/${encodeURIComponent(saved.id)}`);
    await loadCases();
  } catch (error) {
    handle(error);
  }
}

// Runs

let reportUrl = null;

function showRun(run) {
  $("run-box").hidden = false;
  const progress = $("run-progress");
  progress.max = Math.max(run.total || run.cases, 1);
  progress.value = run.state === "done" ? progress.max : run.done;
  const status = $("run-status");
  $("run-box").dataset.state = run.state;
  if (run.state === "queued") status.textContent = "排队中，马上开始…";
  else if (run.state === "running") status.textContent = `正在测试：已完成 ${run.done} / ${run.total || run.cases} 道`;
  else if (run.state === "failed") status.textContent = `测试没有完成：${run.error}`;
  else {
    const s = run.summary;
    status.textContent = `测试完成：${s.cases} 道题答对 ${s.passed} 道。`;
    fillScores(
      $("run-summary"),
      SUMMARY_NAMES.map(([key, name, unit]) => {
        const value = s[key];
        if (unit === "ms") return [name, `${Math.round(value)} 毫秒`];
        return [name, percent(value)];
      }),
    );
  }
  if (run.state !== "done") $("run-summary").hidden = true;
}

async function openableReport(run) {
  const link = $("report-link");
  link.hidden = true;
  if (run.state !== "done") return;
  // The report needs the token, which a plain link cannot send: fetch it and open it from memory.
  const html = await (await call("GET", `/evals/runs/${run.id}/report`)).text();
  if (reportUrl) URL.revokeObjectURL(reportUrl);
  reportUrl = URL.createObjectURL(new Blob([html], { type: "text/html;charset=utf-8" }));
  link.href = reportUrl;
  link.hidden = false;
}

async function follow(run) {
  showRun(run);
  while (run.state === "queued" || run.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    run = await callJson("GET", `/evals/runs/${run.id}`);
    showRun(run);
  }
  await openableReport(run);
  await showFailures(run);
  return run;
}

async function runAll() {
  const button = $("run-all");
  button.disabled = true;
  showMessage("");
  try {
    const run = await callJson("POST", "/evals/runs");
    $("report-link").hidden = true;
    await follow(run);
  } catch (error) {
    handle(error);
  } finally {
    button.disabled = false;
  }
}

async function showLatestRun() {
  const runs = await callJson("GET", "/evals/runs");
  if (runs.length === 0) return;
  const button = $("run-all");
  button.disabled = true;
  try {
    await follow(runs[0]);
  } finally {
    button.disabled = false;
  }
}

// Knowledge base update jobs (uploads, re-indexing): progress, refused files with the reason, cancel.

const JOB_STATES = {
  queued: "排队中",
  running: "进行中",
  done: "已完成",
  failed: "没有完成",
  cancelled: "已取消",
};
const JOB_STAGES = {
  read: "正在读取文件",
  embed: "正在建立索引",
  complete: "已可检索，正在补全向量",
  waiting: "等待另一个更新结束",
};
let jobsTimer = null;

function jobLine(job) {
  const files = job.files.length ? job.files.join("、") : job.kind === "reindex" ? "重新建索引" : "文件";
  let state = JOB_STATES[job.state] || job.state;
  if (job.cancelling) state = "正在取消…";
  else if (job.state === "running" && job.stage) {
    state = `${JOB_STAGES[job.stage] || job.stage}${job.total ? `（${job.done} / ${job.total}）` : ""}`;
  }
  return `${files}：${state}`;
}

function renderJobs(jobs) {
  const list = $("job-list");
  list.replaceChildren();
  for (const job of jobs) {
    const item = element("li", "job");
    item.dataset.state = job.cancelling ? "cancelling" : job.state;
    const row = element("div", "case-row");
    const text = element("div");
    text.append(element("div", "case-question", jobLine(job)));
    const details = [];
    if (job.added.length) details.push(`新增：${job.added.join("、")}`);
    if (job.updated.length) details.push(`更新：${job.updated.join("、")}`);
    if (job.removed.length) details.push(`移除：${job.removed.join("、")}`);
    if (details.length) text.append(element("div", "case-detail", details.join(" · ")));
    for (const [file, reason] of Object.entries(job.skipped)) {
      text.append(element("div", "case-detail job-refused", `没有收录 ${file}：${reason}`));
    }
    if (job.message) text.append(element("div", "case-detail", job.message));
    row.append(text);
    if ((job.state === "queued" || job.state === "running") && !job.cancelling) {
      const cancel = element("button", "danger", "取消");
      cancel.type = "button";
      cancel.setAttribute("aria-label", `取消任务：${jobLine(job)}`);
      cancel.addEventListener("click", () => cancelJob(job));
      row.append(cancel);
    }
    item.append(row);
    list.append(item);
  }
  $("no-jobs").hidden = jobs.length > 0;
}

let jobsWereActive = false;

async function loadJobs() {
  const jobs = (await callJson("GET", "/jobs")).slice(0, 10);
  renderJobs(jobs);
  const active = jobs.some((job) => job.state === "queued" || job.state === "running");
  // The document list shows what jobs are reading, and what they added, as they go. While chunks wait
  // for vectors it keeps being read: the last job's final count can be read a moment before its last
  // vectors are marked, and a server completing vectors at start runs no job at all.
  if (active || jobsWereActive || !$("vector-state").hidden) await loadDocuments();
  jobsWereActive = active;
  return active;
}

// Polls while a job is active, slowly otherwise (an upload may come from another official or the CLI).
function watchJobs() {
  clearTimeout(jobsTimer);
  loadJobs()
    .then((active) => {
      jobsTimer = setTimeout(watchJobs, active ? POLL_MS : 10 * POLL_MS);
    })
    .catch(handle);
}

async function cancelJob(job) {
  // After its documents became searchable, cancelling only stops adding their vectors.
  const question =
    job.stage === "complete"
      ? "确定停止补全向量吗？文件已经收录，助手照常按文字回答；以后重新建索引时会补全。"
      : "确定取消这个任务吗？已经做了的部分不会生效，知识库保持原样。";
  if (!window.confirm(`${question}\n${jobLine(job)}`)) return;
  try {
    await callJson("DELETE", `/jobs/${encodeURIComponent(job.id)}`);
  } catch (error) {
    handle(error);
  }
  watchJobs();
}


// The knowledge base's documents: list and search, upload with progress, what the assistant reads,
// metadata corrections, re-index and delete.

const KINDS = { policy: "政策文件", handbook: "产品手册", case: "典型案例", other: "其他" };
const DOC_STATES = { indexed: "已收录", refused: "没有收录", ingesting: "正在收录…" };
const META_FIELDS = [
  ["title", "meta-title"],
  ["kind", "meta-kind"],
  ["region", "meta-region"],
  ["valid_from", "meta-from"],
  ["valid_to", "meta-to"],
];
// A table row as the chunker writes it: 列名：值；列名：值 (at least two cells).
const TABLE_ROW = /^[^：；\n]{1,30}：[^；\n]*(；[^：；\n]{1,30}：[^；\n]*)+$/;
let documents = [];
let openSource = null;

// A source is a path (policy/grain.md): each segment is encoded, the slashes stay.
function docPath(source) {
  return `/documents/${source.split("/").map(encodeURIComponent).join("/")}`;
}

function size(bytes) {
  if (!bytes) return "—";
  if (bytes < 1000) return `${bytes} 字节`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} KB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

function when(utc) {
  if (!utc) return "—";
  const date = new Date(`${utc.replace(" ", "T")}Z`);
  if (Number.isNaN(date.getTime())) return utc;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function validity(doc) {
  if (!doc.valid_from && !doc.valid_to) return "长期有效";
  return `${doc.valid_from || "…"} 至 ${doc.valid_to || "…"}`;
}

async function loadDocuments() {
  // The counts are a hint beside the list: the list shows even when they cannot be read.
  const [docs, stats] = await Promise.all([
    callJson("GET", "/documents"),
    callJson("GET", "/stats").catch(() => ({ pending: 0 })),
  ]);
  documents = docs;
  renderDocuments();
  renderVectorState(stats);
}

// Chunks without a vector answer by their words only; a job adds the vectors, or a re-index resumes it.
function renderVectorState(stats) {
  const box = $("vector-state");
  box.replaceChildren();
  box.hidden = !stats.pending;
  if (!stats.pending) return;
  box.append(`向量未完成 ${stats.pending} 段（已可按文字检索）`);
  if (stats.completing) {
    box.append("：", element("span", "completing", "正在补全…"));
    return;
  }
  const resume = element("button", "inline", "继续补全");
  resume.type = "button";
  resume.id = "resume-vectors";
  resume.addEventListener("click", async () => {
    try {
      await callJson("POST", "/reindex");
      watchJobs();
    } catch (error) {
      handle(error);
    }
  });
  box.append(" ", resume);
}

function renderDocuments() {
  const term = $("doc-search").value.trim().toLowerCase();
  const shown = documents.filter(
    (doc) => !term || doc.source.toLowerCase().includes(term) || doc.title.toLowerCase().includes(term),
  );
  const list = $("doc-list");
  list.replaceChildren();
  for (const doc of shown) list.append(documentRow(doc));
  $("doc-count").textContent = String(documents.filter((doc) => doc.status !== "refused").length);
  $("no-docs").hidden = shown.length > 0;
}

function documentRow(doc) {
  const item = element("li", "doc");
  item.dataset.source = doc.source;
  item.dataset.status = doc.status;
  const about = element("div");
  const title = element("div", "doc-title", doc.title || doc.source);
  title.append(" ", element("span", `badge ${doc.status}`, DOC_STATES[doc.status] || doc.status));
  if (doc.expired) title.append(" ", element("span", "badge expired", "已过期"));
  about.append(title, element("div", "doc-source", doc.source));
  if (doc.status === "refused") {
    about.append(element("div", "doc-reason", `原因：${doc.reason}`));
  } else if (doc.status === "indexed" || doc.chunks) {
    const facts = element("div", "doc-facts");
    const changed = Object.keys(doc.overrides || {}).length ? "（信息已修改）" : "";
    for (const fact of [
      `类别：${KINDS[doc.kind] || doc.kind}`,
      `地区：${doc.region || "全国通用"}`,
      `有效期：${validity(doc)}`,
      `${doc.chunks} 段`,
      ...(doc.pending ? [`向量未完成 ${doc.pending} 段`] : []),
      `大小：${size(doc.bytes)}`,
      `收录于 ${when(doc.ingested_at)}${changed}`,
    ]) {
      facts.append(element("span", "", fact));
    }
    about.append(facts);
  }
  const actions = element("div", "doc-actions");
  const button = (text, label, action, className = "") => {
    const node = element("button", className, text);
    node.type = "button";
    node.setAttribute("aria-label", `${label}：${doc.source}`);
    node.addEventListener("click", action);
    actions.append(node);
    return node;
  };
  if (doc.status === "indexed") button("查看内容", "查看内容", () => openDocument(doc.source), "open-doc");
  if (doc.status !== "ingesting") {
    button("重新建索引", "重新建索引", () => reindexDocument(doc), "reindex-doc");
    button("删除", "删除", () => deleteDocument(doc), "danger delete-doc");
  }
  item.append(about, actions);
  return item;
}

// Uploading: one request per file, so each file has its own progress bar and its own ingest job.

function uploadRow(file) {
  const item = element("li", "upload");
  item.dataset.name = file.name;
  item.dataset.state = "uploading";
  const state = element("span", "upload-state", "正在上传…");
  state.dataset.state = "uploading";
  const head = element("div", "");
  head.append(element("strong", "", file.name), "：", state);
  const bar = element("progress");
  bar.max = 1;
  bar.value = 0;
  item.append(head, bar);
  $("upload-list").prepend(item);
  const show = (text, phase, done, total) => {
    state.textContent = text;
    state.dataset.state = phase;
    item.dataset.state = phase;
    if (total) {
      bar.max = total;
      bar.value = done;
    }
    bar.hidden = phase === "done" || phase === "failed";
  };
  return show;
}

function send(file, show) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("files", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", `${BASE}/documents`);
    request.setRequestHeader("Authorization", `Bearer ${token()}`);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) show(`正在上传 ${Math.round((event.loaded / event.total) * 100)}%`, "uploading", event.loaded, event.total);
    };
    request.onerror = () => reject(new ApiError(0, "network", NETWORK_MESSAGE));
    request.onload = () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // Not JSON: the general message below.
      }
      if (request.status === 202 && body) resolve(body);
      else {
        const error = (body && body.error) || { code: `http_${request.status}`, message: SERVER_MESSAGE };
        reject(new ApiError(request.status, error.code, error.message));
      }
    };
    request.send(form);
  });
}

async function waitForJob(job, onProgress) {
  while (job.state === "queued" || job.state === "running") {
    onProgress(job);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = await callJson("GET", `/jobs/${encodeURIComponent(job.id)}`);
  }
  return job;
}

function jobProgress(job) {
  if (job.state === "queued") return "排队等待收录…";
  if (job.cancelling) return "正在取消…";
  const stage = JOB_STAGES[job.stage] || "正在收录";
  return job.total ? `${stage}（${job.done} / ${job.total}）` : `${stage}…`;
}

async function uploadOne(file) {
  const show = uploadRow(file);
  try {
    let job = await send(file, show);
    const source = job.files[0];
    show("已上传，排队等待收录…", "ingesting", 0, 1);
    watchJobs();
    let searchable = false;
    job = await waitForJob(job, (current) => {
      show(jobProgress(current), "ingesting", current.done, current.total);
      if (current.stage === "complete" && !searchable) {
        searchable = true; // committed: list the document now, while its vectors are added
        loadDocuments().catch(handle);
      }
    });
    if (job.skipped[source]) show(`没有收录：${job.skipped[source]}`, "failed");
    else if (job.added.includes(source) || job.updated.includes(source)) show("已收录，助手可以回答了", "done");
    else if (job.state === "done") show("文件和已收录的一样，没有变化", "done");
    else show(job.message || "没有完成", "failed");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    show(error.message, "failed");
    if (error.status === 401 || error.status === 403) handle(error);
  }
  await loadDocuments();
}

async function uploadAll(files) {
  showMessage("");
  for (const file of Array.from(files)) await uploadOne(file);
}

// What the assistant reads, and metadata corrections.

function chunkLines(text) {
  const box = element("div", "chunk-text");
  for (const line of text.split("\n")) {
    if (TABLE_ROW.test(line)) {
      const row = element("div", "table-row");
      for (const cell of line.split("；")) {
        const [name, ...rest] = cell.split("：");
        const node = element("span", "table-cell");
        node.append(element("b", "", `${name}：`), rest.join("："));
        row.append(node);
      }
      box.append(row);
    } else {
      box.append(element("p", "chunk-line", line));
    }
  }
  return box;
}

function fillMeta(doc) {
  $("meta-title").value = doc.title;
  $("meta-kind").value = doc.kind in KINDS ? doc.kind : "other";
  $("meta-region").value = doc.region;
  $("meta-from").value = doc.valid_from;
  $("meta-to").value = doc.valid_to;
  for (const mark of document.querySelectorAll("#meta-form .changed")) {
    mark.hidden = !(mark.dataset.field in (doc.overrides || {}));
  }
}

let openDoc = null;

async function openDocument(source) {
  showMessage("");
  try {
    const view = await callJson("GET", `${docPath(source)}/chunks`);
    openSource = source;
    openDoc = view.document;
    $("doc-panel-title").textContent = `《${view.document.title}》的内容`;
    $("doc-panel-source").textContent = `${source} · ${view.chunks.length} 段 · ${validity(view.document)}${view.document.expired ? "（已过期）" : ""}`;
    fillMeta(view.document);
    $("meta-status").textContent = "";
    const list = $("chunk-list");
    list.replaceChildren();
    for (const chunk of view.chunks) {
      const item = element("li", "chunk");
      const head = element("div", "chunk-head");
      head.append(element("span", "", `第 ${chunk.ordinal + 1} 段`));
      head.append(element("span", "chunk-section", chunk.section || "（没有章节）"));
      head.append(element("span", "", `${chunk.chars} 字`));
      item.append(head, chunkLines(chunk.text));
      list.append(item);
    }
    if (view.chunks.length === 0) list.append(element("li", "hint", "这个文件没有读出任何文字。"));
    $("chunk-count").textContent = String(view.chunks.length);
    $("doc-panel").hidden = false;
    $("doc-panel").scrollIntoView({ block: "start" });
  } catch (error) {
    handle(error);
  }
}

// Only what the official changed, plus what was corrected before, is sent: the rest keeps following
// the file (a later version of it may bring new values).
function metadataChange() {
  const body = {};
  const earlier = openDoc.overrides || {};
  for (const [field, id] of META_FIELDS) {
    const value = $(id).value.trim();
    if (field === "title" && !value) continue;
    if (field in earlier || value !== (openDoc[field] || "")) body[field] = value;
  }
  return body;
}

async function saveMetadata(body) {
  const status = $("meta-status");
  const source = openSource;
  $("save-meta").disabled = true;
  $("reset-meta").disabled = true;
  showMessage("");
  try {
    let job = await callJson("PUT", `${docPath(source)}/metadata`, body);
    watchJobs();
    job = await waitForJob(job, (current) => {
      status.textContent = `已保存，正在重新建索引：${jobProgress(current)}`;
    });
    // The outcome is said once the list and the open document show it (their 已修改 marks included).
    await loadDocuments();
    if (openSource === source) await openDocument(source);
    status.textContent = job.state === "done" ? "已保存，助手已经按新的信息回答。" : job.message || "没有完成。";
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401 && error.status !== 403) status.textContent = error.message;
    else handle(error);
  } finally {
    $("save-meta").disabled = false;
    $("reset-meta").disabled = false;
  }
}

async function reindexDocument(doc) {
  showMessage("");
  try {
    await callJson("POST", `${docPath(doc.source)}/reindex`);
    watchJobs();
  } catch (error) {
    handle(error);
  }
}

async function reindexAll() {
  if (!window.confirm("确定把全部文件重新读一遍吗？文件多的时候要等一会儿，期间助手照常回答。")) return;
  showMessage("");
  try {
    await callJson("POST", "/reindex");
    watchJobs();
  } catch (error) {
    handle(error);
  }
}

async function deleteDocument(doc) {
  const what = doc.status === "refused" ? "这个没有收录的文件" : `《${doc.title}》`;
  if (!window.confirm(`确定删除${what}吗？删除后助手不再根据它回答。\n${doc.source}`)) return;
  showMessage("");
  try {
    await callJson("DELETE", docPath(doc.source));
    if (openSource === doc.source) $("doc-panel").hidden = true;
    await loadDocuments();
  } catch (error) {
    handle(error);
  }
}

// Retrieval in one region's documents.

async function searchRegion(event) {
  event.preventDefault();
  const question = $("search-question").value.trim();
  if (!question) return;
  const body = { question };
  const region = $("search-region").value.trim();
  if (region) body.region = region;
  const list = $("search-results");
  $("search-button").disabled = true;
  showMessage("");
  try {
    const hits = await callJson("POST", "/search", body);
    list.replaceChildren();
    for (const hit of hits) {
      const item = element("li", "passage");
      item.dataset.source = hit.source;
      const head = element("div", "passage-head");
      head.append(element("span", "passage-score", `得分 ${hit.score.toFixed(3)}`));
      head.append(element("span", "", hit.source));
      head.append(element("span", "", hit.region || "全国通用"));
      if (hit.expired) head.append(element("span", "badge expired", "已过期"));
      const where = [hit.title, hit.section].filter(Boolean).join(" › ");
      if (where) head.append(element("span", "", where));
      item.append(head, element("p", "passage-text", hit.text));
      list.append(item);
    }
    if (hits.length === 0) list.append(element("li", "hint", "没有找到段落。"));
  } catch (error) {
    handle(error);
  } finally {
    $("search-button").disabled = false;
  }
}

// Failed test cases, linked to the document list and to an upload.

function findDocument(term) {
  $("doc-search").value = term;
  renderDocuments();
  $("kb-card").scrollIntoView({ block: "start" });
}

async function showFailures(run) {
  const box = $("failures");
  box.hidden = true;
  if (run.state !== "done") return;
  const failures = await callJson("GET", `/evals/runs/${run.id}/failures`);
  const list = $("failure-list");
  list.replaceChildren();
  for (const failure of failures) {
    const item = element("li", "failure");
    item.dataset.problem = failure.problem || "";
    item.append(element("div", "case-question", failure.question));
    item.append(element("div", "case-detail", PROBLEMS[failure.problem] || ""));
    if (failure.missing_sources.length) {
      item.append(element("div", "case-detail job-refused", `知识库里没有：${failure.missing_sources.join("、")}`));
    }
    if (failure.unknown_terms.length) {
      item.append(element("div", "case-detail", `文件里没有提到：${failure.unknown_terms.join("、")}`));
    }
    if (failure.problem === "missing_document" || failure.problem === "retrieval_miss") {
      const actions = element("div", "failure-actions");
      const expected = failure.missing_sources[0] || failure.expected_sources[0] || "";
      const term = expected ? expected.split("/").pop() : failure.unknown_terms[0] || "";
      const find = element("button", "find-doc", "查找文件");
      find.type = "button";
      find.addEventListener("click", () => findDocument(term));
      const upload = element("button", "upload-missing", "上传缺少的文件");
      upload.type = "button";
      upload.addEventListener("click", () => {
        findDocument(term);
        $("file-input").click();
      });
      actions.append(find, upload);
      item.append(actions);
    }
    list.append(item);
  }
  box.hidden = failures.length === 0;
}

function startKnowledgeBase() {
  const input = $("file-input");
  const zone = $("drop-zone");
  $("pick-files").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const files = Array.from(input.files);
    input.value = "";
    uploadAll(files);
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer && event.dataTransfer.files.length) uploadAll(event.dataTransfer.files);
  });
  $("doc-search").addEventListener("input", renderDocuments);
  $("reindex-all").addEventListener("click", reindexAll);
  $("close-doc").addEventListener("click", () => {
    $("doc-panel").hidden = true;
    openSource = null;
  });
  $("meta-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (openDoc) saveMetadata(metadataChange());
  });
  $("reset-meta").addEventListener("click", () => {
    if (openDoc && window.confirm("确定放弃修改，恢复文件里写的信息吗？")) saveMetadata({});
  });
  $("search-form").addEventListener("submit", searchRegion);
}

// Start

function start() {
  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (value) await enter(value);
  });
  $("sign-out").addEventListener("click", () => {
    signOut();
    showMessage("");
  });
  $("try-form").addEventListener("submit", tryQuestion);
  $("save-case").addEventListener("click", saveCase);
  $("run-all").addEventListener("click", runAll);
  startKnowledgeBase();
  document.body.dataset.ready = "true";
  if (token()) enter(token());
}

start();
