// Renders Markdown the way chat frontends do, and reports what the HTML would load or run.
//
// stdin:  {"allowlist": ["docs.example.com"], "documents": ["markdown", ...]}
// stdout: [{"<renderer>": {"html", "html_hrefs_normalized", "findings", "text", "hidden"}}, ...]
//
// Renderers, configured as frontends configure them:
// - markdown-it with {html: true, linkify: true}
// - marked with its defaults (GFM on)
// - unified + remark-parse + remark-gfm + remark-rehype (allowDangerousHtml) + rehype-raw +
//   rehype-stringify: the react-markdown stack with raw HTML enabled.
// The HTML is parsed with parse5 (the WHATWG HTML parsing algorithm, as browsers parse it)
// and URLs with the WHATWG URL parser (Node's URL), so findings are what a browser would do.
import MarkdownIt from "markdown-it";
import { Marked } from "marked";
import { parseFragment } from "parse5";
import rehypeRaw from "rehype-raw";
import rehypeStringify from "rehype-stringify";
import remarkGfm from "remark-gfm";
import remarkParse from "remark-parse";
import remarkRehype from "remark-rehype";
import { unified } from "unified";

const markdownIt = new MarkdownIt({ html: true, linkify: true });
const marked = new Marked();
const remark = unified()
  .use(remarkParse)
  .use(remarkGfm)
  .use(remarkRehype, { allowDangerousHtml: true })
  .use(rehypeRaw)
  .use(rehypeStringify);

const RENDERERS = {
  "markdown-it": (md) => markdownIt.render(md),
  marked: (md) => marked.parse(md, { async: false }),
  remark: (md) => String(remark.processSync(md)),
};

// Elements that load, run, embed, submit or restyle anything, or change how URLs resolve.
const ACTIVE_ELEMENTS = new Set([
  "applet", "audio", "base", "basefont", "bgsound", "button", "canvas", "embed", "form",
  "frame", "frameset", "iframe", "image", "img", "input", "isindex", "keygen", "link",
  "math", "meta", "noembed", "noframes", "noscript", "object", "param", "picture",
  "portal", "script", "select", "source", "style", "svg", "template", "textarea", "track",
  "video", "xmp",
]);

// Attributes whose value a browser fetches or navigates to.
const URL_ATTRIBUTES = new Set([
  "action", "background", "cite", "codebase", "data", "dynsrc", "formaction", "href",
  "icon", "longdesc", "lowsrc", "manifest", "ping", "poster", "src", "srcdoc", "srcset",
  "xlink:href", "xmlns:xlink",
]);

// Relative URLs resolve against the page that shows the reply.
const PAGE = "https://frontend.invalid/chat/";

function allowedHost(hostname, allowlist) {
  return allowlist.some((host) => hostname === host || hostname.endsWith(`.${host}`));
}

function checkHref(value, allowlist) {
  // A same-document fragment (GFM footnotes render them) navigates nowhere and loads nothing.
  if (value.startsWith("#")) {
    return null;
  }
  let url;
  try {
    url = new URL(value, PAGE);
  } catch {
    return `href the WHATWG URL parser rejects (${JSON.stringify(value)})`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `href with scheme ${url.protocol} (${JSON.stringify(value)})`;
  }
  if (!allowedHost(url.hostname, allowlist)) {
    return `href to host ${url.hostname} (${JSON.stringify(value)})`;
  }
  return null;
}

// What renderers themselves write for plain Markdown, and is inert: a GFM task-list item's
// disabled checkbox, and markdown-it's table alignment. Exactly these shapes, nothing more.
function inertTaskCheckbox(node) {
  const attrs = Object.fromEntries(node.attrs.map((a) => [a.name, a.value]));
  const names = Object.keys(attrs);
  return (
    attrs.type === "checkbox" &&
    "disabled" in attrs &&
    names.every((name) => ["type", "disabled", "checked", "class"].includes(name))
  );
}

const ALIGNMENT = /^text-align: ?(left|center|right);?$/;

function inspect(html, allowlist) {
  const findings = [];
  const text = [];
  const hidden = [];
  const walk = (node) => {
    if (node.nodeName === "#text") {
      text.push(node.value);
    } else if (node.nodeName === "#comment") {
      hidden.push(node.data);
    }
    if (node.tagName) {
      const tag = node.tagName;
      if (ACTIVE_ELEMENTS.has(tag) && !(tag === "input" && inertTaskCheckbox(node))) {
        findings.push(`element <${tag}>`);
      }
      for (const attr of node.attrs ?? []) {
        const name = attr.prefix ? `${attr.prefix}:${attr.name}` : attr.name;
        hidden.push(attr.value);
        if (name.startsWith("on")) {
          findings.push(`event-handler attribute ${name} on <${tag}>`);
        } else if (name === "style" && !(["th", "td"].includes(tag) && ALIGNMENT.test(attr.value))) {
          findings.push(`style attribute on <${tag}>`);
        } else if (name === "href" && tag === "a") {
          const problem = checkHref(attr.value, allowlist);
          if (problem) findings.push(`${problem} on <a>`);
        } else if (URL_ATTRIBUTES.has(name)) {
          findings.push(`URL attribute ${name}=${JSON.stringify(attr.value)} on <${tag}>`);
        }
      }
    }
    for (const child of node.childNodes ?? []) walk(child);
    if (node.content) walk(node.content); // <template> contents
  };
  walk(parseFragment(html));
  return { findings, text: text.join(""), hidden: hidden.join("\n") };
}

// The one relaxation of exact equality for benign replies: an href is compared as the URL a
// browser would follow (WHATWG-serialized), so a governor may write allowlisted link
// destinations back in normalized form. Everything else in the HTML stays byte-exact.
function normalizeHrefs(html) {
  return html.replace(/ href="([^"]*)"/g, (whole, raw) => {
    const value = raw
      .replaceAll("&quot;", '"')
      .replaceAll("&lt;", "<")
      .replaceAll("&gt;", ">")
      .replaceAll("&amp;", "&");
    try {
      return ` href="${new URL(value).href.replaceAll("&", "&amp;").replaceAll('"', "&quot;")}"`;
    } catch {
      return whole;
    }
  });
}

function render(markdown, allowlist) {
  const out = {};
  for (const [name, renderer] of Object.entries(RENDERERS)) {
    const html = renderer(markdown);
    out[name] = { html, html_hrefs_normalized: normalizeHrefs(html), ...inspect(html, allowlist) };
  }
  return out;
}

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const { allowlist, documents } = JSON.parse(input);
process.stdout.write(JSON.stringify(documents.map((md) => render(md, allowlist))));
