// The digital-human page: wires the avatar, the speaker, hold-to-talk and the text box to the API.

import { ApiError, askByVoice, chat, chatStream, getConfig, speak } from "./api.js";
import { Avatar } from "./avatar.js";
import { HoldToTalk, StreamBroken } from "./recorder.js";
import { Speaker } from "./speaker.js";

const SESSION_KEY = "xiangyin.session_id";
const TEXT_SIZE_KEY = "xiangyin.bigger_text";
const DEFAULT_CONFIG = {
  assistant_name: "小音",
  avatar: { style: "young-woman" },
  suggestions: [],
  handoff: "",
  max_audio_seconds: 60,
  max_question_chars: 200,
  voice: true,
};

const $ = (id) => document.getElementById(id);
const ui = {
  name: $("assistant-name"),
  avatar: $("avatar"),
  status: $("status"),
  notice: $("notice"),
  offline: $("offline-banner"),
  suggestions: $("suggestions"),
  suggestionList: $("suggestion-list"),
  questionCard: $("question-card"),
  questionLabel: $("question-label"),
  transcript: $("transcript"),
  answerCard: $("answer-card"),
  answerLabel: $("answer-label"),
  answer: $("answer"),
  handoff: $("handoff"),
  readings: $("readings"),
  sources: $("sources"),
  sourceList: $("source-list"),
  actions: $("answer-actions"),
  replay: $("replay"),
  slower: $("slower"),
  form: $("ask-form"),
  input: $("question-input"),
  send: $("send"),
  talk: $("talk"),
  talkLabel: $("talk-label"),
  dialog: $("source-dialog"),
  biggerText: $("bigger-text"),
};

let config = DEFAULT_CONFIG;
let avatar;
let speaker;
let recording = false;
let pending = null; // AbortController of the request in flight
let answerSpeaking = false; // the current answer has started speaking and has more to come
let heard = ""; // what the server has recognised of the question being spoken (streamed)
let current = emptyAnswer();

function emptyAnswer() {
  return { text: "", passages: [], citations: [], speech: "", audioUrls: [], slowerUrl: null, refused: false };
}

function sessionId() {
  return sessionStorage.getItem(SESSION_KEY);
}

function rememberSession(id) {
  if (id) sessionStorage.setItem(SESSION_KEY, id);
}

// ---- state and messages ----------------------------------------------------------------------

function updateState() {
  let state = "idle";
  if (recording) state = "listening";
  else if (speaker.playing || (answerSpeaking && pending)) state = "speaking";
  else if (pending) state = "thinking";
  avatar.setState(state);
  document.body.dataset.busy = pending ? "true" : "false";
}

function setStatus(text) {
  ui.status.textContent = text;
}

function showNotice(message) {
  ui.notice.textContent = message;
  ui.notice.hidden = false;
}

function clearNotice() {
  ui.notice.hidden = true;
  ui.notice.textContent = "";
}

function readyStatus() {
  return config.voice ? "还有问题？按住按钮说话，或者打字提问。" : "还有问题？请打字提问。";
}

// ---- answer rendering -------------------------------------------------------------------------

function sourceFor(number) {
  const citation = current.citations.find((c) => c.number === number);
  if (citation) return citation;
  const passage = current.passages[number - 1];
  return passage ? { ...passage, quote: passage.text } : null;
}

/** The stretches of answer text just before each mark [n] (a clause, or its sentences one by one). */
function citedSentences(number) {
  const pieces = [];
  const parts = current.text.split(/\[(\d{1,2})\]/);
  for (let i = 1; i < parts.length; i += 2) {
    if (Number(parts[i]) !== number) continue;
    const before = parts[i - 1];
    for (const piece of [before, ...before.split(/[。！？；]/)]) {
      const plain = piece.replace(/^[。！？；，、：\s]+|[。！？；，、：\s]+$/g, "");
      if (plain.length >= 4) pieces.push(plain);
    }
  }
  return pieces;
}

/** The passage, with the sentences the answer took from it highlighted; returns the first highlight. */
function renderQuote(quote, sentences) {
  const ranges = sentences
    .map((sentence) => [quote.indexOf(sentence), sentence.length])
    .filter(([start]) => start >= 0)
    .sort((a, b) => a[0] - b[0]);
  const parts = [];
  let last = 0;
  for (const [start, length] of ranges) {
    if (start < last) continue;
    parts.push(document.createTextNode(quote.slice(last, start)));
    const mark = document.createElement("mark");
    mark.textContent = quote.slice(start, start + length);
    parts.push(mark);
    last = start + length;
  }
  parts.push(document.createTextNode(quote.slice(last)));
  const element = $("source-quote");
  element.replaceChildren(...parts);
  return element.querySelector("mark");
}

function openSource(number) {
  const source = sourceFor(number);
  if (!source) return;
  $("source-title").textContent = `《${source.title || source.source}》`;
  $("source-section").textContent = source.section ? `位置：${source.section}` : "";
  const highlight = renderQuote(source.quote || "", citedSentences(number));
  $("source-file").textContent = source.source ? `文件：${source.source}` : "";
  if (typeof ui.dialog.showModal === "function") ui.dialog.showModal();
  else ui.dialog.setAttribute("open", "");
  // Start at the title (not at the close button, which would scroll a long passage to its end),
  // then bring the highlighted sentence into view.
  $("source-title").focus();
  ui.dialog.scrollTop = 0;
  if (highlight) highlight.scrollIntoView({ block: "center" });
}

function citeChip(number) {
  const chip = document.createElement("button");
  chip.type = "button";
  chip.className = "cite";
  chip.dataset.cite = String(number);
  chip.textContent = String(number);
  chip.setAttribute("aria-label", `看出处${number}`);
  chip.addEventListener("click", () => openSource(number));
  return chip;
}

/** Answer text with each [n] mark as a tappable chip. */
function renderAnswerText(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d{1,2})\]/g)) {
    if (match.index > last) parts.push(document.createTextNode(text.slice(last, match.index)));
    const number = Number(match[1]);
    parts.push(sourceFor(number) ? citeChip(number) : document.createTextNode(match[0]));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(document.createTextNode(text.slice(last)));
  ui.answer.replaceChildren(...parts);
}

/** Phone numbers in the hand-off text become call links. */
function renderHandoff(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\d[\d-]{3,}\d/g)) {
    if (match.index > last) parts.push(document.createTextNode(text.slice(last, match.index)));
    const link = document.createElement("a");
    link.href = `tel:${match[0].replace(/-/g, "")}`;
    link.textContent = match[0];
    parts.push(link);
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(document.createTextNode(text.slice(last)));
  ui.handoff.replaceChildren(document.createTextNode("☎ "), ...parts);
  ui.handoff.hidden = false;
}

function renderSources() {
  const seen = new Set();
  const chips = [];
  for (const citation of current.citations) {
    if (seen.has(citation.number)) continue;
    seen.add(citation.number);
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "source-chip";
    chip.dataset.cite = String(citation.number);
    const number = document.createElement("span");
    number.className = "source-number";
    number.textContent = String(citation.number);
    const title = document.createElement("span");
    const where = (citation.section || "").split(">").pop().trim();
    title.textContent = `《${citation.title || citation.source}》${where ? ` ${where}` : ""}`;
    chip.append(number, title);
    chip.addEventListener("click", () => openSource(citation.number));
    chips.push(chip);
  }
  ui.sourceList.replaceChildren(...chips);
  ui.sources.hidden = chips.length === 0;
}

function showQuestion(label, text) {
  ui.suggestions.hidden = true;
  ui.questionLabel.textContent = label;
  ui.transcript.textContent = text;
  ui.questionCard.hidden = false;
  document.body.dataset.started = "true";
}

function startAnswer() {
  speaker.stop();
  current = emptyAnswer();
  ui.answerCard.hidden = false;
  ui.answerCard.dataset.done = "false";
  ui.answer.replaceChildren(document.createTextNode("……"));
  ui.answer.classList.add("waiting");
  ui.handoff.hidden = true;
  ui.readings.hidden = true;
  ui.sources.hidden = true;
  ui.actions.hidden = true;
  ui.replay.disabled = true;
  ui.slower.disabled = true;
}

function finishAnswer(answer) {
  current.text = answer.answer;
  current.citations = answer.citations || [];
  current.passages = answer.passages || current.passages;
  current.speech = answer.speech || "";
  current.refused = Boolean(answer.refused);
  rememberSession(answer.session_id);
  ui.answer.classList.remove("waiting");
  const handoff = config.handoff || "";
  if (current.refused && handoff) {
    // The hand-off stands out in its own box (with call links), not buried in the answer text.
    renderAnswerText(current.text.replace(handoff, "").trim() || current.text);
    renderHandoff(handoff);
  } else {
    renderAnswerText(current.text);
  }
  renderSources();
  renderReadings(answer);
  ui.answerCard.classList.toggle("refused", current.refused);
  ui.actions.hidden = !config.voice || !current.speech;
  ui.slower.disabled = !current.speech;
  ui.replay.disabled = current.audioUrls.length === 0;
  ui.answerCard.dataset.done = "true";
  ui.questionCard.scrollIntoView({ block: "start", behavior: "smooth" });
}

/** A spoken question asked back (issue 16): one button per reading, and 都不是. A tap sends the
 * choice as a typed message; the server answers the chosen reading in the same session. */
function renderReadings(answer) {
  const readings = answer.kind === "confirm" ? answer.readings || [] : [];
  const buttons = readings.map((reading, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "reading";
    button.dataset.choice = String(index + 1);
    button.textContent = `${index + 1}. ${reading.question}`;
    if (reading.title) {
      const title = document.createElement("small");
      title.textContent = `《${reading.title}》`;
      button.append(title);
    }
    button.addEventListener("click", () => ask(String(index + 1)));
    return button;
  });
  if (buttons.length) {
    const none = document.createElement("button");
    none.type = "button";
    none.className = "reading none";
    none.dataset.choice = "no";
    none.textContent = "都不是";
    none.addEventListener("click", () => ask("不是"));
    buttons.push(none);
  }
  ui.readings.replaceChildren(...buttons);
  ui.readings.hidden = buttons.length === 0;
}

function addAudio(url) {
  if (!url || current.audioUrls.includes(url)) return;
  current.audioUrls.push(url);
  ui.replay.disabled = false;
  speaker.enqueue(url);
}

// ---- asking ---------------------------------------------------------------------------------

function begin() {
  clearNotice();
  speaker.unlock();
  if (pending) pending.abort();
  pending = new AbortController();
  answerSpeaking = false;
  return pending;
}

function end(controller) {
  if (pending !== controller) return;
  pending = null;
  answerSpeaking = false;
  updateState();
  if (!speaker.playing) setStatus(readyStatus());
}

function failed(error, controller) {
  if (error && error.name === "AbortError") return;
  const message = error instanceof ApiError ? error.message : "出了点问题，请再试一次。";
  showNotice(message);
  if (ui.answerCard.dataset.done !== "true") {
    ui.answer.classList.remove("waiting");
    if (!current.text) ui.answerCard.hidden = true;
  }
  if (pending === controller) setStatus(message);
}

async function ask(text) {
  const question = text.trim();
  if (!question) {
    showNotice("请先输入您的问题。");
    ui.input.focus();
    return;
  }
  const controller = begin();
  showQuestion("您问：", question);
  startAnswer();
  setStatus(`${config.assistant_name}正在想……`);
  updateState();
  let finished = false;
  try {
    await chatStream(
      question,
      sessionId(),
      (event, data) => {
        if (pending !== controller) return;
        if (event === "question") rememberSession(data.session_id);
        else if (event === "sources") current.passages = data.passages || [];
        else if (event === "delta") {
          current.text += data.text || "";
          ui.answer.classList.remove("waiting");
          renderAnswerText(current.text);
        } else if (event === "audio") {
          answerSpeaking = true;
          addAudio(data.url);
        } else if (event === "done") {
          finished = true;
          finishAnswer(data.answer);
          for (const url of data.audio_urls || []) addAudio(url);
        } else if (event === "error") {
          finished = true;
          throw new ApiError(data.error?.code || "error", data.error?.message || "出了点问题，请再试一次。");
        }
      },
      controller.signal,
    );
    if (!finished) throw new ApiError("network", "回答没有收完整，网络可能断了，请再问一次。");
  } catch (error) {
    if (error instanceof ApiError && (error.code === "no_stream" || error.code === "http_404")) {
      await askWithoutStream(question, controller);
      return;
    }
    failed(error, controller);
  } finally {
    end(controller);
  }
}

/** For servers or proxies that cannot stream: the whole answer, then its speech. */
async function askWithoutStream(question, controller) {
  try {
    const answer = await chat(question, sessionId(), controller.signal);
    finishAnswer(answer);
    if (config.voice && answer.speech) {
      const blob = await speak(answer.speech, null);
      addAudio(URL.createObjectURL(blob));
    }
  } catch (error) {
    failed(error, controller);
  }
}

async function askWithVoice(blob) {
  const controller = begin();
  showQuestion("听到您说：", "……");
  startAnswer();
  setStatus(`${config.assistant_name}正在听您说的话……`);
  updateState();
  try {
    const result = await askByVoice(blob, sessionId(), controller.signal);
    if (pending !== controller) return;
    ui.transcript.textContent = result.transcript || "（没有听清）";
    finishAnswer(result.answer);
    addAudio(result.audio_url);
    if (!result.audio_url && config.voice) showNotice("语音暂时无法播放，请看文字回答。");
  } catch (error) {
    if (pending === controller) ui.questionCard.hidden = true;
    failed(error, controller);
  } finally {
    end(controller);
  }
}

/** The question already streamed while the button was held (issue 16): the server has recognised all
 * but its last stretch, so the answer comes sooner. A socket that breaks first falls back to uploading
 * the recorded clip. */
async function askWithVoiceStream(voice, blob) {
  const controller = begin();
  showQuestion("听到您说：", heard || "……");
  startAnswer();
  setStatus(`${config.assistant_name}正在听您说的话……`);
  updateState();
  document.body.dataset.voiceRoute = "stream";
  try {
    const done = await voice.finish(
      sessionId(),
      (message) => {
        if (pending !== controller) return;
        if (message.type === "partial") ui.transcript.textContent = message.so_far || message.text;
        else if (message.type === "transcript") {
          ui.transcript.textContent = message.text || "（没有听清）";
          setStatus(`${config.assistant_name}正在想……`);
        } else if (message.type === "answer") finishAnswer(message.answer);
        else if (message.type === "audio") {
          answerSpeaking = true;
          addAudio(message.url);
        }
      },
      controller.signal,
    );
    if (pending !== controller) return;
    for (const url of done.audio_urls || []) addAudio(url);
    if (!(done.audio_urls || []).length && config.voice) showNotice(done.notice || "语音暂时无法播放，请看文字回答。");
  } catch (error) {
    if (error instanceof StreamBroken) {
      if (pending === controller) {
        document.body.dataset.voiceRoute = "upload";
        end(controller);
        await askWithVoice(blob);
      }
      return;
    }
    if (pending === controller) ui.questionCard.hidden = true;
    const known = error && error.message && !(error instanceof Error);
    failed(known ? new ApiError(error.code || "error", error.message) : error, controller);
  } finally {
    end(controller);
  }
}

async function speakSlower() {
  speaker.unlock();
  clearNotice();
  if (!current.slowerUrl) {
    ui.slower.disabled = true;
    setStatus(`${config.assistant_name}正在准备慢一点的声音……`);
    try {
      const blob = await speak(current.speech, 0.7);
      current.slowerUrl = URL.createObjectURL(blob);
    } catch (error) {
      failed(error, null);
      return;
    } finally {
      ui.slower.disabled = false;
    }
  }
  speaker.playAll([current.slowerUrl]);
}

// ---- set-up ---------------------------------------------------------------------------------

function applyConfig() {
  const name = config.assistant_name || "小音";
  ui.name.textContent = name;
  document.title = `${name} · 乡音助手`;
  ui.answerLabel.textContent = `${name}答：`;
  ui.input.maxLength = config.max_question_chars || 200;
  avatar = new Avatar(ui.avatar, config.avatar || {}, name);
  const suggestions = (config.suggestions || []).slice(0, 6);
  ui.suggestionList.replaceChildren(
    ...suggestions.map((text) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion";
      button.textContent = text;
      button.addEventListener("click", () => ask(text));
      return button;
    }),
  );
  ui.suggestions.hidden = suggestions.length === 0;
  if (!config.voice) {
    ui.talk.hidden = true;
    setStatus(`您好！我是${name}，请在下面打字提问。`);
  } else {
    setStatus(`您好！我是${name}。按住下面的按钮说话，或者打字提问。`);
  }
}

function setUpTextSize() {
  const apply = (on) => {
    document.documentElement.classList.toggle("bigger", on);
    ui.biggerText.setAttribute("aria-pressed", String(on));
    ui.biggerText.textContent = on ? "正常字" : "大字";
  };
  apply(localStorage.getItem(TEXT_SIZE_KEY) === "1");
  ui.biggerText.addEventListener("click", () => {
    const on = !document.documentElement.classList.contains("bigger");
    localStorage.setItem(TEXT_SIZE_KEY, on ? "1" : "0");
    apply(on);
  });
}

// navigator.onLine only says whether the device has a network: a village-office screen served by the
// machine it runs on has none and still works, so "offline" is confirmed by asking the server itself.
async function serverReachable() {
  try {
    const response = await fetch("/healthz", { cache: "no-store", signal: AbortSignal.timeout(4000) });
    return response.ok;
  } catch {
    return false;
  }
}

function setUpNetworkBanner() {
  const apply = async () => {
    ui.offline.hidden = navigator.onLine || (await serverReachable());
  };
  window.addEventListener("online", apply);
  window.addEventListener("offline", apply);
  // Some phone browsers miss the "online" event after a long sleep; a cheap re-check catches it.
  setInterval(apply, 3000);
  apply();
}

async function main() {
  setUpTextSize();
  setUpNetworkBanner();
  try {
    config = { ...DEFAULT_CONFIG, ...(await getConfig()) };
  } catch (error) {
    showNotice(error instanceof ApiError ? error.message : "页面没有加载完整，请刷新。");
  }
  applyConfig();
  speaker = new Speaker(
    avatar,
    (playing) => {
      updateState();
      if (playing) setStatus(`${config.assistant_name}正在说……`);
      else if (!pending) setStatus(readyStatus());
    },
    () => showNotice("有一段语音没能播放，请看文字回答。"),
  );

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.input.value;
    if (text.trim()) ui.input.value = "";
    ask(text);
  });
  ui.replay.addEventListener("click", () => {
    speaker.unlock();
    speaker.playAll(current.audioUrls);
  });
  ui.slower.addEventListener("click", speakSlower);
  ui.dialog.addEventListener("click", (event) => {
    if (event.target === ui.dialog) ui.dialog.close(); // a tap outside the box closes it
  });

  new HoldToTalk(
    ui.talk,
    ui.talkLabel,
    {
      onPress: () => {
        clearNotice();
        speaker.unlock();
        speaker.stop();
      },
      onStart: () => {
        recording = true;
        heard = "";
        updateState();
        setStatus("我在听，请说……说完松开按钮。");
      },
      onPartial: (text) => {
        heard = text;
        showQuestion("听到您说：", text);
      },
      onStop: (blob, ms, voice) => {
        recording = false;
        if (voice) askWithVoiceStream(voice, blob);
        else {
          document.body.dataset.voiceRoute = "upload";
          askWithVoice(blob);
        }
      },
      onCancel: (message) => {
        recording = false;
        updateState();
        setStatus(message);
      },
      onError: (message) => {
        recording = false;
        updateState();
        showNotice(message);
        setStatus(message);
      },
    },
    config.max_audio_seconds || 60,
  );
  document.body.dataset.ready = "true";
}

main();
