/**
 * The inspector's one HTML page: `chart.css`, `page.css` and `page.js` (kept as real files beside this one, so the
 * formatter and linter see them) read once and inlined, the chart's SVG markup (`ChartSvg.render`) inlined too, with a Content-Security-Policy that allows exactly those two inline
 * blocks (by hash) and requests to the page's own origin. The policy is what makes "offline" a guarantee rather
 * than a habit: a stray CDN link would be blocked by the browser, not just unwanted.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import { readAsset } from "./Assets.ts"

export interface Page {
  /** The page around the chart's `<svg>` markup. */
  /** `replay`: the page plays a recording (`licensure inspect --replay`) instead of following a client. */
  readonly html: (chart: string, options?: { readonly replay?: boolean | undefined }) => string
  readonly contentSecurityPolicy: string
}

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`

/** Reads the assets; throws when a file is missing or could break out of its inline block. */
export const read = (): Page => {
  const style = `${readAsset("chart.css")}\n${readAsset("page.css")}`
  const script = readAsset("page.js")
  if (/<\/(script|style)/i.test(script + style)) {
    throw new Error("page.js and page.css must not contain a closing </script> or </style> tag")
  }
  const html = (chart: string, options: { readonly replay?: boolean | undefined } = {}) =>
    [
      "<!doctype html>",
      '<html lang="en">',
      "<head>",
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      "<title>licensure inspector</title>",
      `<style>${style}</style>`,
      "</head>",
      `<body data-chart="loading" data-source="${options.replay === true ? "replay" : "live"}">`,
      "<header>",
      "<h1>licensure inspector</h1>",
      "<dl>",
      '<div><dt>state</dt><dd id="current-state">…</dd></div>',
      '<div><dt>status</dt><dd id="current-status">…</dd></div>',
      '<div><dt>licensed</dt><dd id="licensed">…</dd></div>',
      '<div><dt>licence clock</dt><dd id="clock">…</dd></div>',
      '<div><dt>next sync</dt><dd id="next-sync">…</dd></div>',
      '<div><dt>grace until</dt><dd id="grace">…</dd></div>',
      '<div><dt>expires</dt><dd id="expires">…</dd></div>',
      '<div><dt>lease until</dt><dd id="lease">…</dd></div>',
      "</dl>",
      '<span id="connection">connecting…</span>',
      "</header>",
      "<main>",
      '<section aria-labelledby="chart-title"><h2 id="chart-title">state chart</h2>',
      '<label class="toggle"><input type="checkbox" id="all-labels"> all edge labels</label>',
      // The export link's address is set by the script (to the state shown), so the markup names no URL at all.
      '<a id="export-svg" class="button" download>export SVG</a>',
      '<div class="replay" role="group" aria-label="replay">',
      '<button type="button" id="replay-back" title="one step back">◀</button>',
      '<input type="range" id="replay" min="0" max="0" value="0" step="1" aria-label="moment in the timeline">',
      '<button type="button" id="replay-forward" title="one step forward">▶</button>',
      '<button type="button" id="replay-play" title="play the timeline from the start">play</button>',
      '<button type="button" id="replay-live" title="follow the live licence">live</button>',
      '<output id="replay-at" for="replay">live</output>',
      "</div>",
      `<div class="chart-box">${chart}</div></section>`,
      '<section aria-labelledby="timeline-title"><h2 id="timeline-title">timeline (newest first)</h2>',
      '<div class="timeline-head" aria-hidden="true"><span>time (licence clock)</span><span>state</span>' +
        "<span>LexActivator status</span><span>event (what happened, why)</span>" +
        "<span>last error: operation, kind, server code, message</span></div>",
      '<ol id="timeline"></ol></section>',
      "</main>",
      "<noscript>Without JavaScript the chart stays still: the highlight, the timeline and replay need it.</noscript>",
      `<script>${script}</script>`,
      "</body>",
      "</html>"
    ].join("\n")
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join("; ")
  return { html, contentSecurityPolicy }
}
