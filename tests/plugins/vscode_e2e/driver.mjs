// Drives a code-server workbench in the system chromium (puppeteer-core) for the VS Code end-to-end test.
// One JSON request per stdin line, one JSON answer per stdout line ({ok: true, ...} or {ok: false, error}).
// Needs: PUPPETEER_CORE (the package folder) and CHROMIUM (the browser binary) in the environment.
import { createRequire } from "node:module";
import * as readline from "node:readline";

const require = createRequire(import.meta.url);
const puppeteer = require(process.env.PUPPETEER_CORE);

let browser = null;
let page = null;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// The active editor's text as rendered: Monaco's view lines, ordered by their position on screen.
async function editorText() {
  return page.evaluate(() => {
    const group = document.querySelector(".editor-group-container.active") || document;
    const lines = [...group.querySelectorAll(".monaco-editor .view-lines .view-line")];
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return lines.map((l) => l.textContent.replace(/\u00a0/g, " ")).join("\n");
  });
}

const ops = {
  async start({ url }) {
    browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM,
      headless: "new",
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--window-size=1400,900"],
      defaultViewport: { width: 1400, height: 900 },
    });
    page = await browser.newPage();
    await page.goto(url, { waitUntil: "domcontentloaded", timeout: 120000 });
    await page.waitForSelector(".monaco-workbench", { timeout: 120000 });
    return {};
  },
  async open({ name }) {
    await page.keyboard.down("Control");
    await page.keyboard.press("p");
    await page.keyboard.up("Control");
    await page.waitForSelector(".quick-input-widget input", { visible: true, timeout: 20000 });
    await sleep(200);
    await page.keyboard.type(name);
    // A file created a moment ago may not be indexed yet, and fuzzy matching offers others ("undo.txt" for
    // "unicode.txt"): wait for the row named exactly so, and pick that one.
    const row = await waitFor(async () => {
      for (const handle of await page.$$(".quick-input-list .monaco-list-row")) {
        const label = await handle.$eval(".label-name", (e) => e.textContent.trim()).catch(() => "");
        if (label === name) return handle;
      }
      return null;
    }, 20000, `${name} in Quick Open`);
    await row.click();
    await waitFor(() => page.evaluate((n) => {
      const tab = document.querySelector(".editor-group-container.active .tab.active");
      return tab && tab.textContent.includes(n);
    }, name), 20000, `${name} to be the active tab`);
    await sleep(300);
    return {};
  },
  async keys({ keys }) {
    for (const combo of keys) {
      const parts = combo.split("+");
      for (const k of parts.slice(0, -1)) await page.keyboard.down(k);
      await page.keyboard.press(parts[parts.length - 1]);
      for (const k of parts.slice(0, -1).reverse()) await page.keyboard.up(k);
    }
    return {};
  },
  async type({ text }) {
    await page.keyboard.type(text);
    return {};
  },
  async text() {
    return { text: await editorText() };
  },
  async status() {
    const text = await page.evaluate(() => [...document.querySelectorAll(".statusbar-item")]
      .map((e) => e.textContent || e.getAttribute("aria-label") || "").filter((t) => t.includes("Pushkin")).join(" | "));
    return { text };
  },
  async decorations() {
    // A rewrite preview: how many rendered pieces are struck through (the old text), and the screen text,
    // which includes the new text injected after it.
    const struck = await page.evaluate(() => {
      const group = document.querySelector(".editor-group-container.active") || document;
      return [...group.querySelectorAll(".monaco-editor .view-lines span")]
        .filter((e) => getComputedStyle(e).textDecorationLine.includes("line-through"))
        .map((e) => e.textContent.replace(/\u00a0/g, " ")).join("");
    });
    // Decoration text after a range is CSS generated content (::after) or injected text, depending on the
    // VS Code version: gather both.
    const after = await page.evaluate(() => {
      const group = document.querySelector(".editor-group-container.active") || document;
      return [...group.querySelectorAll(".monaco-editor .view-lines span")]
        .map((e) => getComputedStyle(e, "::after").content)
        .filter((c) => c && c !== "none" && c !== "normal" && c !== '""')
        .join("");
    });
    return { struck, after, screen: await editorText() };
  },
  async arm({ word }) {
    // Stamp (wall clock, ms) the first moment `word` is rendered in the active editor.
    await page.evaluate((w) => {
      window.__pushkinSeen = null;
      const group = document.querySelector(".editor-group-container.active") || document;
      const target = group.querySelector(".monaco-editor .view-lines");
      if (window.__pushkinObserver) window.__pushkinObserver.disconnect();
      window.__pushkinObserver = new MutationObserver(() => {
        if (window.__pushkinSeen === null && target.textContent.toLowerCase().includes(w)) {
          window.__pushkinSeen = Date.now();
        }
      });
      window.__pushkinObserver.observe(target, { childList: true, subtree: true, characterData: true });
    }, word);
    return {};
  },
  async seen() {
    return { at_ms: await page.evaluate(() => window.__pushkinSeen) };
  },
  async command({ title }) {
    await ops.keys({ keys: ["F1"] });
    await page.waitForSelector(".quick-input-widget input", { visible: true, timeout: 20000 });
    await sleep(200);
    await page.keyboard.type(title);
    await waitFor(() => page.evaluate((t) => [...document.querySelectorAll(".quick-input-list .monaco-list-row")]
      .some((r) => r.textContent.includes(t)), title), 20000, `command ${title}`);
    await page.keyboard.press("Enter");
    await sleep(200);
    return {};
  },
  async screenshot({ path }) {
    await page.screenshot({ path });
    return {};
  },
  async close() {
    if (browser) await browser.close();
    browser = null;
    return {};
  },
};

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const request = JSON.parse(line);
    answer = { ok: true, ...(await ops[request.op](request)) };
  } catch (error) {
    answer = { ok: false, error: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
if (browser) await browser.close();
