// Plays the answer audio (a queue of MP3 URLs, one per sentence) through a Web Audio analyser and
// moves the avatar's mouth with it: loudness opens the mouth, the balance of high and low frequencies
// makes it wide (i, e) or round (o, u).

const SILENCE = 0.012;
const LOUD = 0.11;

export class Speaker {
  /** `onChange(playing)` is called when playback starts and when the queue runs dry. */
  constructor(avatar, onChange, onFailure) {
    this.avatar = avatar;
    this.onChange = onChange;
    this.onFailure = onFailure;
    this.audio = new Audio();
    this.audio.preload = "auto";
    this.queue = [];
    this.playing = false;
    this.context = null;
    this.analyser = null;
    this.open = 0;
    this.width = 1;
    this.failures = 0;
    this.audio.addEventListener("ended", () => this.next());
    this.audio.addEventListener("error", () => {
      if (!this.playing) return;
      this.failures += 1;
      this.next();
    });
    this.audio.addEventListener("playing", () => this.animate());
  }

  /** Must run inside a user gesture (tap, key press): browsers only start audio after one. */
  unlock() {
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!this.context && AudioContextClass) {
      try {
        this.context = new AudioContextClass();
        const source = this.context.createMediaElementSource(this.audio);
        this.analyser = this.context.createAnalyser();
        this.analyser.fftSize = 1024;
        this.analyser.smoothingTimeConstant = 0.3;
        source.connect(this.analyser);
        this.analyser.connect(this.context.destination);
        this.samples = new Float32Array(this.analyser.fftSize);
        this.spectrum = new Uint8Array(this.analyser.frequencyBinCount);
      } catch {
        this.context = null;
        this.analyser = null;
      }
    }
    if (this.context && this.context.state === "suspended") this.context.resume().catch(() => {});
  }

  /** Adds a URL to the queue and starts playing if nothing is. */
  enqueue(url) {
    this.queue.push(url);
    if (!this.playing) this.next();
  }

  /** Replaces whatever is playing with these URLs. */
  playAll(urls) {
    this.stop();
    this.failures = 0;
    for (const url of urls) this.enqueue(url);
  }

  stop() {
    this.queue = [];
    this.audio.pause();
    this.audio.removeAttribute("src");
    this.setPlaying(false);
  }

  next() {
    const url = this.queue.shift();
    if (url === undefined) {
      this.setPlaying(false);
      if (this.failures > 0 && this.onFailure) this.onFailure();
      this.failures = 0;
      return;
    }
    this.setPlaying(true);
    this.audio.src = url;
    this.audio.play().catch((error) => {
      if (error && error.name === "AbortError") return; // replaced by the next source
      this.failures += 1;
      this.next();
    });
  }

  setPlaying(playing) {
    if (this.playing === playing) return;
    this.playing = playing;
    if (!playing) {
      this.open = 0;
      this.avatar.setMouth(0, 1);
    }
    this.onChange(playing);
  }

  animate() {
    if (this.frame) return;
    const step = () => {
      this.frame = null;
      if (!this.playing) return;
      this.measure();
      this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }

  measure() {
    let target;
    let width = 1;
    if (this.analyser && this.context.state === "running") {
      this.analyser.getFloatTimeDomainData(this.samples);
      let sum = 0;
      for (const value of this.samples) sum += value * value;
      const rms = Math.sqrt(sum / this.samples.length);
      target = Math.min(1, Math.max(0, (rms - SILENCE) / (LOUD - SILENCE)));
      this.analyser.getByteFrequencyData(this.spectrum);
      const binHz = this.context.sampleRate / this.analyser.fftSize;
      const band = (low, high) => {
        let total = 0;
        for (let i = Math.floor(low / binHz); i < Math.min(this.spectrum.length, high / binHz); i++) total += this.spectrum[i];
        return total / Math.max(1, (high - low) / binHz);
      };
      const low = band(250, 1000);
      const high = band(1800, 4500);
      if (low + high > 0) width = 0.8 + 0.5 * Math.min(1, (high / (low + 1)) * 1.6);
    } else {
      // No Web Audio (very old browser): move the mouth in a speech-like rhythm while audio plays.
      const t = this.audio.currentTime;
      target = this.audio.paused ? 0 : 0.35 + 0.3 * Math.sin(t * 17) * Math.sin(t * 5.3);
    }
    // Open fast, close a little slower: reads as speech rather than flicker.
    this.open += (target - this.open) * (target > this.open ? 0.6 : 0.35);
    this.width += (width - this.width) * 0.3;
    this.avatar.setMouth(this.open, this.width);
  }
}
