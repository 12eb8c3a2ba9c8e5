// The officials' testing page: try a question, save it as a test case, run every saved case and open
// the report; follow (and cancel) the knowledge base's update jobs. Every call carries the admin token, which lives only in this tab's sessionStorage.

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
  sessionStorage.removeItem(TOKEN_KEY);
  $("sign-in").hidden = false;
  $("workspace").hidden = true;
  $("sign-out").hidden = true;
  $("token").value = "";
}

async function enter(value) {
  signIn(value);
  try {
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
const JOB_STAGES = { read: "正在读取文件", embed: "正在建立索引", waiting: "等待另一个更新结束" };
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

async function loadJobs() {
  const jobs = (await callJson("GET", "/jobs")).slice(0, 10);
  renderJobs(jobs);
  return jobs.some((job) => job.state === "queued" || job.state === "running");
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
  if (!window.confirm(`确定取消这个任务吗？已经做了的部分不会生效，知识库保持原样。\n${jobLine(job)}`)) return;
  try {
    await callJson("DELETE", `/jobs/${encodeURIComponent(job.id)}`);
  } catch (error) {
    handle(error);
  }
  watchJobs();
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
  document.body.dataset.ready = "true";
  if (token()) enter(token());
}

start();
