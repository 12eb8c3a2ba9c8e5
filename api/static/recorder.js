// Hold-to-talk: press and hold the button (finger, mouse or space bar) to record with MediaRecorder,
// let go to send. Failures (no microphone, permission denied, plain-http page) become Chinese messages.
//
// Where the browser can (AudioWorklet and WebSocket), the question is also streamed while it is spoken:
// 16 kHz PCM to /api/v1/speech/stream, which recognises each finished stretch before the button is let
// go (issue 16). The MediaRecorder clip is kept all the same: if the socket cannot open or breaks, it is
// uploaded as before.

const MIN_MS = 600;
const TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
const STREAM_PATH = "/api/v1/speech/stream";
const PCM_RATE = 16000;
const FRAME_SAMPLES = PCM_RATE / 10; // 100 ms a frame
const OPEN_TIMEOUT_MS = 3000;
// Only the last stretch is left to recognise at release; a socket that says nothing for this long
// after it is treated as broken and the recorded clip is uploaded instead.
const HEARD_TIMEOUT_MS = 30000;
// The worklet only copies the microphone's samples out of the audio thread; a Blob URL keeps it in
// this file.
const TAP_SOURCE = `
class PcmTap extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel && channel.length) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor("pcm-tap", PcmTap);
`;
let tapUrl = null;

export function streamingSupported() {
  return Boolean(window.WebSocket && window.AudioContext && window.AudioWorkletNode);
}

/** The socket broke (or never opened) before the answer came: the caller uploads the clip instead. */
export class StreamBroken extends Error {}

/** Microphone samples at the context's rate -> 16 kHz 16-bit frames (each output sample averages the
 * input samples it covers, which is also the anti-aliasing filter). */
export class Downsampler {
  constructor(rate) {
    this.ratio = rate / PCM_RATE;
    this.phase = 0;
    this.carry = new Float32Array(0);
    this.pending = [];
  }

  /** Returns the whole 100-ms frames now ready, as Int16Array. */
  push(input) {
    const data = new Float32Array(this.carry.length + input.length);
    data.set(this.carry);
    data.set(input, this.carry.length);
    let pos = this.phase;
    while (pos + this.ratio <= data.length) {
      const start = Math.floor(pos);
      const end = Math.max(start + 1, Math.floor(pos + this.ratio));
      let sum = 0;
      for (let k = start; k < end; k += 1) sum += data[k];
      this.pending.push(sum / (end - start));
      pos += this.ratio;
    }
    const used = Math.floor(pos);
    this.phase = pos - used;
    this.carry = data.slice(used);
    const frames = [];
    while (this.pending.length >= FRAME_SAMPLES) frames.push(toPcm(this.pending.splice(0, FRAME_SAMPLES)));
    return frames;
  }

  /** What is left (less than a frame). */
  flush() {
    const rest = this.pending.length ? toPcm(this.pending) : null;
    this.pending = [];
    return rest;
  }
}

function toPcm(samples) {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i += 1) {
    const value = Math.max(-1, Math.min(1, samples[i]));
    pcm[i] = value < 0 ? value * 0x8000 : value * 0x7fff;
  }
  return pcm;
}

/** One spoken question over the socket: frames while the button is held, then `finish`. Partial
 * transcripts go to `onPartial(text)` while the villager still speaks. */
export class VoiceStream {
  constructor(maxSeconds, onPartial) {
    this.maxSamples = Math.floor(maxSeconds * PCM_RATE);
    this.sent = 0;
    this.onPartial = onPartial;
    this.queue = [];
    this.broken = false;
    this.error = null; // the server's {code, message}: told, not fallen back from
    this.listener = null;
    this.finished = false;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    try {
      this.socket = new WebSocket(`${scheme}//${location.host}${STREAM_PATH}`);
    } catch {
      this.broken = true;
      return;
    }
    this.socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), OPEN_TIMEOUT_MS);
      this.socket.addEventListener("open", () => {
        clearTimeout(timer);
        for (const item of this.queue) this.socket.send(item);
        this.queue = [];
        resolve(true);
      });
      this.socket.addEventListener("error", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    this.socket.addEventListener("message", (event) => this.receive(event.data));
    this.socket.addEventListener("close", () => {
      if (!this.finished && !this.error) this.broken = true;
      if (this.listener) this.listener(null);
    });
  }

  get usable() {
    return !this.broken || Boolean(this.error);
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "error") this.error = message.error || {};
    if (message.type === "done") this.finished = true;
    if (message.type === "partial" && this.onPartial) this.onPartial(message.so_far || message.text || "");
    if (this.listener) this.listener(message);
  }

  send(item) {
    if (this.broken || this.error) return;
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(item);
    else if (this.socket.readyState === WebSocket.CONNECTING) this.queue.push(item);
  }

  sendPcm(pcm) {
    const room = this.maxSamples - this.sent;
    if (room <= 0) return;
    const piece = pcm.length > room ? pcm.subarray(0, room) : pcm;
    this.sent += piece.length;
    this.send(piece.buffer.slice(piece.byteOffset, piece.byteOffset + piece.byteLength));
  }

  cancel() {
    this.finished = true;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) {
      this.send(JSON.stringify({ type: "cancel" }));
      try {
        this.socket.close();
      } catch {
        // Already closing.
      }
    }
  }

  /** Sends `end` and calls `onMessage(message)` for every message after it. Resolves with the `done`
   * message; rejects with {code, message} for the server's error and with StreamBroken when the socket
   * breaks first (the caller then uploads the clip). */
  finish(sessionId, onMessage, signal) {
    return new Promise((resolve, reject) => {
      let watchdog = null;
      const settle = (message) => {
        if (watchdog && message && message.type !== "partial") {
          clearTimeout(watchdog);
          watchdog = null;
        }
        if (message === null) {
          if (this.error) reject(this.error);
          else if (!this.finished) reject(new StreamBroken("the socket closed"));
          return;
        }
        if (message.type === "error") {
          reject(message.error || {});
          return;
        }
        onMessage(message);
        if (message.type === "done") resolve(message);
      };
      if (this.error) {
        reject(this.error);
        return;
      }
      if (this.broken || !this.socket) {
        reject(new StreamBroken("the socket is not open"));
        return;
      }
      if (signal) {
        signal.addEventListener("abort", () => {
          this.cancel();
          reject(new DOMException("aborted", "AbortError"));
        });
      }
      this.listener = settle;
      this.opened.then((open) => {
        if (!open) {
          this.broken = true;
          reject(new StreamBroken("the socket did not open"));
          return;
        }
        this.send(JSON.stringify({ type: "end", session_id: sessionId || null, speak: true }));
        watchdog = setTimeout(() => {
          this.broken = true;
          this.listener = null;
          try {
            this.socket.close();
          } catch {
            // Already closing.
          }
          reject(new StreamBroken("no transcript in time"));
        }, HEARD_TIMEOUT_MS);
      });
    });
  }
}

let warmTap = null;

/** An audio context with the tap's worklet loaded, made before the button is pressed: loading the
 * worklet takes long enough that a tap started on the press would miss the question's first syllable
 * (低保 came out as 宜宝). It waits suspended until a press resumes it. */
function prepareTap() {
  if (warmTap) return;
  let context;
  try {
    // The browser's own resampler (with a proper low-pass filter) turns the microphone into 16 kHz
    // where it can; elsewhere (older Firefox refuses a microphone at another rate) the Downsampler
    // averages.
    context = new AudioContext({ sampleRate: PCM_RATE });
  } catch {
    context = new AudioContext();
  }
  if (!tapUrl) tapUrl = URL.createObjectURL(new Blob([TAP_SOURCE], { type: "text/javascript" }));
  const ready = context.audioWorklet.addModule(tapUrl);
  ready.catch(() => {});
  warmTap = { context, ready };
}

/** The microphone's samples, downsampled and sent over `voice` as they come. */
async function startTap(stream, voice) {
  prepareTap();
  const { context, ready } = warmTap;
  warmTap = null; // one context per recording, closed with it; the next one is prepared at once
  await ready;
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, "pcm-tap");
  const downsampler = new Downsampler(context.sampleRate);
  node.port.onmessage = (event) => {
    for (const frame of downsampler.push(event.data)) voice.sendPcm(frame);
  };
  source.connect(node);
  // Some browsers only run a worklet whose output goes somewhere; it writes nothing, so this is silent.
  node.connect(context.destination);
  if (context.state === "suspended") await context.resume();
  return () => {
    const rest = downsampler.flush();
    if (rest) voice.sendPcm(rest);
    node.port.onmessage = null;
    source.disconnect();
    node.disconnect();
    context.close().catch(() => {});
    prepareTap();
  };
}

export function microphoneMessage(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return "没有麦克风权限。请在浏览器设置里允许使用麦克风，或者直接打字提问。";
  }
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
    return "没有找到麦克风。请检查手机或电脑的麦克风，或者直接打字提问。";
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return "麦克风被别的程序占用了。请关掉其他正在录音的程序再试，或者直接打字提问。";
  }
  return "麦克风暂时用不了，请直接打字提问。";
}

export class HoldToTalk {
  /**
   * callbacks: onStart(), onStop(blob, ms, voice), onCancel(message), onError(message), and
   * onPartial(text) for what the server has heard so far while the button is still held;
   * `voice` is the VoiceStream that already carries the question, or null to upload `blob`.
   * maxSeconds: recording stops by itself after this long. stream: try the socket first.
   */
  constructor(button, label, callbacks, maxSeconds = 60, stream = true) {
    this.button = button;
    this.label = label;
    this.callbacks = callbacks;
    this.maxSeconds = maxSeconds;
    this.maxMs = maxSeconds * 1000;
    this.wanted = false;
    this.recorder = null;
    this.voice = null;
    this.stopTap = null;
    this.streaming = stream && streamingSupported();
    if (this.streaming) {
      try {
        prepareTap();
      } catch {
        // Made on the first press instead.
      }
    }
    this.idleLabel = label.textContent;

    button.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      try {
        button.setPointerCapture(event.pointerId);
      } catch {
        // Capture is a nicety (finger sliding off the button); recording works without it.
      }
      this.press();
    });
    for (const type of ["pointerup", "pointercancel"]) button.addEventListener(type, () => this.release());
    button.addEventListener("contextmenu", (event) => event.preventDefault());
    button.addEventListener("keydown", (event) => {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) {
        event.preventDefault();
        this.press();
      }
    });
    button.addEventListener("keyup", (event) => {
      if (event.key === " " || event.key === "Enter") {
        event.preventDefault();
        this.release();
      }
    });
  }

  get supported() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  }

  async press() {
    if (this.wanted) return;
    this.wanted = true;
    if (this.callbacks.onPress) this.callbacks.onPress();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.wanted = false;
      this.callbacks.onError(
        window.isSecureContext
          ? "这个浏览器不能录音，请换用手机自带浏览器或微信，或者直接打字提问。"
          : "这个网址不能使用麦克风（需要 https 安全连接），请直接打字提问。",
      );
      return;
    }
    if (!window.MediaRecorder) {
      this.wanted = false;
      this.callbacks.onError("这个浏览器不能录音，请换用手机自带浏览器，或者直接打字提问。");
      return;
    }
    // The socket opens while the microphone does.
    const voice = this.streaming ? new VoiceStream(this.maxSeconds, (text) => this.partial(text)) : null;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (error) {
      this.wanted = false;
      if (voice) voice.cancel();
      this.callbacks.onError(microphoneMessage(error));
      return;
    }
    if (!this.wanted) {
      // Let go before the microphone opened (a tap, not a hold).
      stream.getTracks().forEach((track) => track.stop());
      if (voice) voice.cancel();
      this.callbacks.onCancel("请按住按钮不放，说完再松开。");
      return;
    }
    this.voice = voice && voice.usable ? voice : null;
    this.begin(stream);
    if (this.voice) {
      startTap(stream, this.voice)
        .then((stop) => {
          if (this.recorder) this.stopTap = stop;
          else stop();
        })
        .catch(() => {
          // No worklet after all (an old engine): the clip is uploaded as before.
          if (this.voice) this.voice.cancel();
          this.voice = null;
        });
    }
  }

  partial(text) {
    if (this.recorder && this.callbacks.onPartial && text) this.callbacks.onPartial(text);
  }

  begin(stream) {
    const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    const chunks = [];
    this.recorder = recorder;
    this.started = performance.now();
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size > 0) chunks.push(event.data);
    });
    recorder.addEventListener("start", () => {
      this.started = performance.now();
      this.button.dataset.recording = "true";
      this.button.dataset.recordedMs = "0";
      this.label.textContent = "松开 发送";
      this.timer = setInterval(() => this.tick(), 100);
      this.callbacks.onStart();
    });
    recorder.addEventListener("stop", () => {
      clearInterval(this.timer);
      if (this.stopTap) this.stopTap();
      this.stopTap = null;
      stream.getTracks().forEach((track) => track.stop());
      const ms = performance.now() - this.started;
      this.button.dataset.recording = "false";
      this.label.textContent = this.idleLabel;
      this.recorder = null;
      const voice = this.voice;
      this.voice = null;
      const blob = new Blob(chunks, { type: recorder.mimeType || mimeType || "audio/webm" });
      if (ms < MIN_MS || blob.size === 0) {
        if (voice) voice.cancel();
        this.callbacks.onCancel("说话时间太短了，请按住按钮，说完再松开。");
      } else {
        this.callbacks.onStop(blob, ms, voice && voice.usable ? voice : null);
      }
    });
    recorder.start(250);
  }

  tick() {
    const ms = performance.now() - this.started;
    this.button.dataset.recordedMs = String(Math.round(ms));
    const left = Math.ceil((this.maxMs - ms) / 1000);
    this.label.textContent = left <= 10 ? `松开 发送（还能说${left}秒）` : "松开 发送";
    if (ms >= this.maxMs) this.release();
  }

  release() {
    if (!this.wanted) return;
    this.wanted = false;
    if (this.recorder && this.recorder.state === "recording") this.recorder.stop();
  }
}
