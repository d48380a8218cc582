/**
 * The stylesheet inlined into the HTML evaluation report. System fonts only: the page loads
 * nothing from anywhere.
 */

/** CSS for the evaluation report's page and for the classes its SVG plots use. */
export const REPORT_CSS = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #eef1f4; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1400px; margin: 0 auto; padding: 20px 24px 32px; }
h1 { font-size: 21px; margin: 0 0 8px; overflow-wrap: anywhere; }
h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
section, header { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin: 0 0 14px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.notes ul { margin: 0; padding-left: 20px; }
.notes li { overflow-wrap: anywhere; }
.muted, .empty { color: var(--muted); }
.empty { font-style: italic; margin: 4px 0; }
.metric-groups { display: flex; flex-wrap: wrap; gap: 14px 28px; align-items: flex-start; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0 0 4px; }
th, td { padding: 3px 10px 3px 0; border-bottom: 1px solid var(--soft); text-align: left; vertical-align: top; }
th { font-weight: 500; }
thead th { color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); }
.num { text-align: right; white-space: nowrap; }
.events td, .events th { padding-right: 16px; }
.row { color: var(--muted); font-size: 12px; }
.pos { white-space: nowrap; }
.tag { border-radius: 4px; padding: 0 5px; font-size: 12px; white-space: nowrap; }
.tag-true { background: #dafbe1; color: #116329; }
.tag-false { background: #ffebe9; color: #a40e26; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 12px; color: var(--muted); margin: 0 0 6px; }
.swatch { display: inline-block; width: 16px; height: 10px; margin-right: 5px; vertical-align: -1px; }
.sw-score { height: 0; border-top: 2px solid #1f2328; vertical-align: 3px; }
.sw-channel { height: 0; border-top: 2px solid #0969da; vertical-align: 3px; }
.sw-threshold { height: 0; border-top: 2px dashed #cf222e; vertical-align: 3px; }
.sw-label { background: rgba(230, 140, 0, 0.32); }
.sw-detected { background: rgba(124, 58, 237, 0.2); }
.sw-both { background: linear-gradient(rgba(124, 58, 237, 0.2), rgba(124, 58, 237, 0.2)), rgba(230, 140, 0, 0.32); }
svg.plot { display: block; max-width: 100%; height: auto; }
.plot-bg { fill: #fff; }
.plot-frame { fill: none; stroke: #9aa4ae; stroke-width: 1; }
.grid { stroke: #e6eaee; stroke-width: 1; }
.tick { font-size: 11px; fill: var(--muted); }
.plot-compact .tick { font-size: 9.5px; }
.band-label { fill: #e68c00; fill-opacity: 0.32; }
.band-detected { fill: #7c3aed; fill-opacity: 0.2; }
.band-label-lane { fill: #e68c00; }
.band-detected-lane { fill: #7c3aed; }
.series-score { fill: none; stroke: #1f2328; stroke-width: 1; stroke-linejoin: round; }
.series-channel { fill: none; stroke: #0969da; stroke-width: 1; stroke-linejoin: round; }
.hline-threshold { stroke: #cf222e; stroke-width: 1.3; stroke-dasharray: 6 4; }
.line-label { font-size: 11px; fill: #cf222e; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.channel-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(310px, 1fr)); gap: 10px 16px; }
figure { margin: 0; min-width: 0; }
figcaption { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; }
figcaption .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
figcaption .share { color: var(--muted); white-space: nowrap; }
footer { color: var(--muted); font-size: 12px; text-align: center; }
`;
