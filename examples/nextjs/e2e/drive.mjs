// Drives the chat page in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core; no browser is downloaded): loads the page, types each message in turn,
// records every length the reply's text takes while it streams, and prints what the page
// showed as one JSON object on stdout. The backend test suite (tests/browser) runs it and judges
// the result. Usage: node e2e/drive.mjs <page url> <message>... (one turn each, in order)
import { chromium } from "playwright-core";

const [url, ...messages] = process.argv.slice(2);
if (!url || messages.length === 0) {
  console.error("usage: node e2e/drive.mjs <page url> <message>...");
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const STEP_MS = 20_000;

// Stops by itself whatever happens: a stuck browser cannot hold the test suite.
const hardStop = setTimeout(() => {
  console.error(`drive.mjs: gave up after ${3 * STEP_MS} ms`);
  process.exit(3);
}, 3 * STEP_MS);

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  timeout: STEP_MS,
  // playwright-core gives each launch a fresh temporary profile (--user-data-dir).
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const consoleLines = [];
const page = await browser.newPage();
try {
  page.setDefaultTimeout(STEP_MS);
  page.on("console", (line) => consoleLines.push(`${line.type()}: ${line.text()}`));
  page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.message}`));

  await page.goto(url, { waitUntil: "load" });
  const turns = [];
  for (const [index, message] of messages.entries()) {
    turns.push(await send(page, message, index + 1));
  }
  const banner = await page.evaluate(() => document.querySelector(".dev-banner")?.textContent ?? null);
  console.log(JSON.stringify({ turns, banner, console: consoleLines }));
} catch (error) {
  console.error(`drive.mjs: ${error}`);
  const shown = await page.evaluate(() => document.querySelector("main")?.innerText).catch(() => "");
  console.error(`the page showed:\n${shown}\nits console:\n${consoleLines.join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  clearTimeout(hardStop);
}

/** Sends one message as the n-th turn and reports what the page showed for it. */
async function send(page, message, n) {
  // The form says when it is hydrated (and signed in, when Supabase is configured).
  await page.waitForSelector('form[data-ready="true"]');
  await page.evaluate(replyOfTurn);
  await page.evaluate((n) => {
    const growth = [];
    window.__growth = growth;
    window.__observer?.disconnect();
    const record = () => {
      const reply = window.replyOfTurn(n);
      if (!reply) return;
      const entry = { length: reply.textContent.length, outcome: reply.dataset.outcome ?? "" };
      const last = growth[growth.length - 1];
      if (!last || last.length !== entry.length || last.outcome !== entry.outcome) growth.push(entry);
    };
    window.__observer = new MutationObserver(record);
    window.__observer.observe(document.querySelector("main"), {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  }, n);
  await page.getByLabel("Message").fill(message);
  await page.getByRole("button", { name: "Send" }).click();
  // The turn is over once the n-th message is on the page and the chat is idle again.
  await page.waitForFunction((n) => {
    const sent = document.querySelectorAll('article[data-role="user"]').length >= n;
    const status = document.querySelector("main")?.dataset.status;
    return sent && (status === "ready" || status === "error");
  }, n);
  return page.evaluate((n) => {
    const reply = window.replyOfTurn(n);
    return {
      message: n,
      reply: reply?.textContent ?? null,
      outcome: reply?.dataset.outcome ?? null,
      category: reply?.dataset.category ?? null,
      request_id: reply?.dataset.requestId ?? null,
      session_id: reply?.dataset.sessionId ?? null,
      failure: document.querySelector('[data-testid="failure"]')?.textContent ?? null,
      growth: window.__growth,
    };
  }, n);
}

/** Installed in the page: the reply to the n-th user message, if there is one. */
function replyOfTurn() {
  window.replyOfTurn = (n) => {
    const asked = document.querySelectorAll('article[data-role="user"]')[n - 1];
    const next = asked?.nextElementSibling;
    return next?.dataset.role === "assistant" ? next.querySelector(".reply") : null;
  };
}
