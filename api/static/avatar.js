// The assistant's face: an SVG drawn from the configured look (style and colours). It breathes and
// blinks when idle, pulses a ring while listening, looks up with thought dots while thinking, and its
// mouth follows the answer audio (`setMouth`, fed by the speaker's analyser).
//
// Test hooks on the host element: data-state (idle | listening | thinking | speaking), data-mouth
// (current openness 0..1), data-mouth-peak (largest openness since speaking last started) and
// data-viseme (rest | a | i | u).

const SVG = "http://www.w3.org/2000/svg";
const HEX = /^#[0-9a-f]{3,8}$/i;
const STYLES = ["young-woman", "young-man", "elder-woman"];
const DEFAULT_LOOK = { style: "young-woman", skin: "#f3c9a5", hair: "#2b1a12", outfit: "#2f7d5b" };
const ELDER_HAIR = "#cfcac4";
export const STATES = ["idle", "listening", "thinking", "speaking"];

function node(name, attributes, parent) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (parent) parent.appendChild(element);
  return element;
}

/** Any CSS colour the configuration names ("#2f7d5b", "teal", "rgb(…)"), else the fallback. */
function colour(value, fallback) {
  if (typeof value !== "string" || value.length > 64) return fallback;
  if (HEX.test(value)) return value;
  return window.CSS && CSS.supports("color", value) ? value : fallback;
}

/** A darker shade of a #rrggbb colour, for outlines and shadows. */
function shade(hex, factor) {
  const full = hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join("")}` : hex.slice(0, 7);
  const channels = [1, 3, 5].map((i) => Math.round(parseInt(full.slice(i, i + 2), 16) * factor));
  return `rgb(${channels.join(",")})`;
}

/** The mouth outline for an openness (0 closed .. 1 wide open) and a width factor (round .. wide). */
export function mouthPath(open, width) {
  const half = 15 * width;
  const y = 154;
  const upper = y + 3 - open * 4;
  const lower = y + 5 + open * 28;
  return `M ${120 - half} ${y - 2} Q 120 ${upper} ${120 + half} ${y - 2} Q 120 ${lower} ${120 - half} ${y - 2} Z`;
}

export class Avatar {
  constructor(host, look = {}, name = "小音") {
    this.host = host;
    const style = STYLES.includes(look.style) ? look.style : DEFAULT_LOOK.style;
    this.look = {
      style,
      skin: HEX.test(look.skin || "") ? look.skin : DEFAULT_LOOK.skin,
      hair: colour(look.hair, style === "elder-woman" ? ELDER_HAIR : DEFAULT_LOOK.hair),
      outfit: colour(look.outfit, DEFAULT_LOOK.outfit),
    };
    this.state = "idle";
    this.open = 0;
    this.peak = 0;
    host.setAttribute("aria-label", `助手${name}`);
    host.replaceChildren(this.draw());
    this.setState("idle");
    this.setMouth(0, 1);
    this.scheduleBlink();
  }

  draw() {
    const { skin, hair, outfit, style } = this.look;
    const woman = style === "young-woman";
    const elder = style === "elder-woman";
    const svg = node("svg", { viewBox: "0 0 240 280", "aria-hidden": "true", focusable: "false" });
    node("circle", { class: "backdrop", cx: 120, cy: 140, r: 116 }, svg);
    node("circle", { class: "ring", cx: 120, cy: 140, r: 114 }, svg);

    const body = node("g", { class: "body" }, svg);
    if (woman) {
      // Long hair falling behind the shoulders.
      node("path", { d: "M 60 120 Q 52 60 120 50 Q 188 60 180 120 L 186 214 Q 120 236 54 214 Z", fill: hair }, body);
    }
    node("path", { d: "M 28 280 Q 32 222 92 206 L 148 206 Q 208 222 212 280 Z", fill: outfit }, body);
    node("path", { d: "M 98 206 L 120 236 L 142 206 Z", fill: "#fbf7ef" }, body);
    node("rect", { x: 104, y: 170, width: 32, height: 44, rx: 12, fill: skin }, body);
    node("path", { d: "M 104 190 Q 120 200 136 190 L 136 180 L 104 180 Z", fill: shade(skin, 0.88) }, body);
    // A name badge on the outfit, like the staff of a service hall wear.
    node("rect", { x: 150, y: 236, width: 34, height: 16, rx: 4, fill: "#fbf7ef" }, body);
    node("rect", { x: 154, y: 242, width: 26, height: 4, rx: 2, fill: outfit }, body);

    const head = node("g", { class: "head" }, body);
    node("ellipse", { cx: 66, cy: 128, rx: 10, ry: 14, fill: skin }, head);
    node("ellipse", { cx: 174, cy: 128, rx: 10, ry: 14, fill: skin }, head);
    node("ellipse", { cx: 120, cy: 120, rx: 54, ry: 62, fill: skin }, head);
    if (woman) {
      node("path", {
        d: "M 64 118 Q 62 56 120 52 Q 178 56 176 118 Q 170 92 150 80 Q 128 96 96 96 Q 76 100 64 118 Z",
        fill: hair,
      }, head);
      node("circle", { cx: 160, cy: 78, r: 7, fill: "#f2b134" }, head);
      node("circle", { cx: 160, cy: 78, r: 3, fill: "#e0663a" }, head);
    } else if (elder) {
      // Silver hair combed back into a bun; smile lines.
      node("circle", { cx: 120, cy: 50, r: 20, fill: hair }, head);
      node("path", {
        d: "M 64 120 Q 60 58 120 56 Q 180 58 176 120 Q 172 92 156 82 Q 120 70 84 82 Q 68 92 64 120 Z",
        fill: hair,
      }, head);
      const lines = { fill: "none", stroke: shade(skin, 0.8), "stroke-width": 1.6, "stroke-linecap": "round" };
      node("path", { d: "M 80 126 Q 77 131 80 135", ...lines }, head);
      node("path", { d: "M 160 126 Q 163 131 160 135", ...lines }, head);
      node("path", { d: "M 102 146 Q 99 153 103 160", ...lines }, head);
      node("path", { d: "M 138 146 Q 141 153 137 160", ...lines }, head);
    } else {
      node("path", {
        d: "M 66 112 Q 62 54 120 54 Q 178 54 174 112 Q 168 82 146 76 Q 118 90 92 82 Q 72 90 66 112 Z",
        fill: hair,
      }, head);
    }
    const brows = node("g", { class: "brows", stroke: hair, "stroke-width": 4, "stroke-linecap": "round", fill: "none" }, head);
    node("path", { d: "M 84 103 Q 96 96 108 102" }, brows);
    node("path", { d: "M 132 102 Q 144 96 156 103" }, brows);

    const eyes = node("g", { class: "eyes" }, head);
    for (const x of [96, 144]) {
      const eye = node("g", { class: "eye" }, eyes);
      node("ellipse", { cx: x, cy: 121, rx: 7.5, ry: 9.5, fill: "#2a1a14" }, eye);
      node("circle", { class: "glint", cx: x + 2.5, cy: 117, r: 2.6, fill: "#ffffff" }, eye);
    }
    if (elder) {
      const frame = { fill: "none", stroke: "#6b4f3a", "stroke-width": 2.2 };
      node("circle", { cx: 96, cy: 121, r: 13, ...frame }, head);
      node("circle", { cx: 144, cy: 121, r: 13, ...frame }, head);
      node("path", { d: "M 109 119 Q 120 114 131 119", ...frame }, head);
    }
    node("ellipse", { cx: 84, cy: 142, rx: 11, ry: 6, fill: "#ec7f7f", opacity: 0.35 }, head);
    node("ellipse", { cx: 156, cy: 142, rx: 11, ry: 6, fill: "#ec7f7f", opacity: 0.35 }, head);
    node("path", {
      d: "M 119 127 Q 115 138 122 139", fill: "none", stroke: shade(skin, 0.72), "stroke-width": 2.5,
      "stroke-linecap": "round",
    }, head);
    this.mouth = node("path", {
      class: "mouth", fill: "#7a2630", stroke: "#c0504f", "stroke-width": 2.5, "stroke-linejoin": "round",
    }, head);

    const thought = node("g", { class: "thought", fill: "#ffffff", stroke: "#14543c", "stroke-width": 2 }, svg);
    node("circle", { cx: 190, cy: 66, r: 6 }, thought);
    node("circle", { cx: 204, cy: 46, r: 8 }, thought);
    node("circle", { cx: 220, cy: 24, r: 10 }, thought);
    this.svg = svg;
    return svg;
  }

  setState(state) {
    if (!STATES.includes(state) || state === this.state && this.host.dataset.state === state) return;
    if (state === "speaking" && this.state !== "speaking") {
      this.peak = 0;
      this.host.dataset.mouthPeak = "0";
    }
    this.state = state;
    this.host.dataset.state = state;
    if (state !== "speaking") this.setMouth(0, 1);
  }

  /** Openness 0..1 and width factor (0.8 round .. 1.25 wide), from the audio analyser. */
  setMouth(open, width = 1) {
    const value = Math.max(0, Math.min(1, open));
    this.open = value;
    this.mouth.setAttribute("d", mouthPath(value, width));
    this.host.dataset.mouth = value.toFixed(2);
    if (value > this.peak) {
      this.peak = value;
      this.host.dataset.mouthPeak = value.toFixed(2);
    }
    let viseme = "rest";
    if (value > 0.12) viseme = width > 1.1 ? "i" : width < 0.92 ? "u" : "a";
    this.host.dataset.viseme = viseme;
  }

  scheduleBlink() {
    const wait = 2500 + Math.random() * 3500;
    setTimeout(() => {
      this.svg.classList.add("blink");
      setTimeout(() => {
        this.svg.classList.remove("blink");
        this.scheduleBlink();
      }, 150);
    }, wait);
  }
}
