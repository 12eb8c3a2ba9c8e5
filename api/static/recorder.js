// Hold-to-talk: press and hold the button (finger, mouse or space bar) to record with MediaRecorder,
// let go to send. Failures (no microphone, permission denied, plain-http page) become Chinese messages.

const MIN_MS = 600;
const TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];

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
   * callbacks: onStart(), onStop(blob, ms), onCancel(message), onError(message);
   * maxSeconds: recording stops by itself after this long.
   */
  constructor(button, label, callbacks, maxSeconds = 60) {
    this.button = button;
    this.label = label;
    this.callbacks = callbacks;
    this.maxMs = maxSeconds * 1000;
    this.wanted = false;
    this.recorder = null;
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
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (error) {
      this.wanted = false;
      this.callbacks.onError(microphoneMessage(error));
      return;
    }
    if (!this.wanted) {
      // Let go before the microphone opened (a tap, not a hold).
      stream.getTracks().forEach((track) => track.stop());
      this.callbacks.onCancel("请按住按钮不放，说完再松开。");
      return;
    }
    this.begin(stream);
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
      stream.getTracks().forEach((track) => track.stop());
      const ms = performance.now() - this.started;
      this.button.dataset.recording = "false";
      this.label.textContent = this.idleLabel;
      this.recorder = null;
      const blob = new Blob(chunks, { type: recorder.mimeType || mimeType || "audio/webm" });
      if (ms < MIN_MS || blob.size === 0) this.callbacks.onCancel("说话时间太短了，请按住按钮，说完再松开。");
      else this.callbacks.onStop(blob, ms);
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
