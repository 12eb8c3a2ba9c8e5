// Talking to the Xiangyin server (same origin). Every failure becomes an ApiError whose message is
// Chinese and meant for the user; `code` tells the page what kind of failure it was.

const NETWORK_MESSAGE = "网络连接断开了，请检查网络后再试一次。";
const SERVER_MESSAGE = "服务器暂时出了点问题，请稍后再试。";

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function errorFrom(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) {
      return new ApiError(body.error.code || `http_${response.status}`, body.error.message);
    }
  } catch {
    // Not our JSON error body (a proxy's HTML page, say): fall through to the generic message.
  }
  return new ApiError(`http_${response.status}`, SERVER_MESSAGE);
}

async function request(path, init = {}) {
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new ApiError("network", NETWORK_MESSAGE);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

function postJson(path, body, signal) {
  return request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
}

export async function getConfig() {
  const response = await request("/api/v1/config");
  return response.json();
}

/** Non-streaming fallback: the whole Answer at once. */
export async function chat(message, sessionId, signal) {
  const response = await postJson("/api/v1/chat", { message, session_id: sessionId }, signal);
  return response.json();
}

/** Splits a text/event-stream into {event, data} records; `data` is parsed JSON. */
export function parseEvents(buffer) {
  const events = [];
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop();
  for (const block of blocks) {
    let event = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) continue;
    let parsed;
    try {
      parsed = JSON.parse(data.join("\n"));
    } catch {
      continue;
    }
    events.push({ event, data: parsed });
  }
  return { events, rest };
}

/**
 * Streams an answer: calls `onEvent(name, data)` for question, sources, delta, audio, done and error
 * events as they arrive. Resolves when the stream ends; throws ApiError when the network drops.
 */
export async function chatStream(message, sessionId, onEvent, signal) {
  const response = await postJson(
    "/api/v1/chat/stream",
    { message, session_id: sessionId, speak: true },
    signal,
  );
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("text/event-stream") || !response.body) {
    throw new ApiError("no_stream", SERVER_MESSAGE);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (error) {
      if (error && error.name === "AbortError") throw error;
      throw new ApiError("network", NETWORK_MESSAGE);
    }
    if (chunk.done) break;
    buffer += chunk.value;
    const { events, rest } = parseEvents(buffer);
    buffer = rest;
    for (const { event, data } of events) onEvent(event, data);
  }
  const { events } = parseEvents(buffer + "\n\n");
  for (const { event, data } of events) onEvent(event, data);
}

/** A recorded question -> {transcript, answer, audio_url}. */
export async function askByVoice(blob, sessionId, signal) {
  const form = new FormData();
  const extension = (blob.type.split("/")[1] || "webm").split(";")[0];
  form.append("audio", blob, `question.${extension}`);
  if (sessionId) form.append("session_id", sessionId);
  form.append("speak", "true");
  const response = await request("/api/v1/voice", { method: "POST", body: form, signal });
  return response.json();
}

/** Spoken text as an MP3 blob; `rate` below 1 is slower. */
export async function speak(text, rate) {
  const response = await postJson("/api/v1/tts", { text, rate });
  return response.blob();
}
