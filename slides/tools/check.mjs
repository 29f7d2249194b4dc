// check.mjs - open every built deck in headless Chromium and check it.
//
//   node tools/check.mjs OUTDIR [--pdf] [--shots DIR] [DECK.md...]
//
// For each deck of decks/*.md, OUTDIR/NN-name.html must:
//   - load from file:// with no failed request, no request that leaves the
//     disk (any http(s) request is blocked and counted), no console error
//     and no uncaught exception;
//   - show as many slides as the source has (+2 generated: title, closing);
//   - fit: no slide's content taller than the 1280x720 slide (it would be
//     cut off on the projector and spill onto a second PDF page);
//   - load every image (each diagram is an SVG beside the deck);
//   - not be blank on the sampled slides: a screenshot of the title slide,
//     a middle slide, the closing slide and every slide with a diagram has
//     enough pixels that are not the background.
// The built HTML, CSS and SVG files must not reference an http(s) asset
// (script, stylesheet, image, font, @import): links to read are fine.
// With --pdf it also prints each deck to OUTDIR/pdf/NN-name.pdf (reveal.js's
// print-pdf layout, one page per slide) and checks the page count with
// pdfinfo. CHROMIUM names the browser (default /usr/bin/chromium).
import { execFileSync } from 'node:child_process';
import {
    existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { GENERATED_SLIDES, loadDecks } from './deck.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SLIDES = resolve(HERE, '..');
const WIDTH = 1280;
const HEIGHT = 720;

// The browser runs with nothing to reach: these flags keep Chromium from
// trying its own services (updates, sync, safe browsing) at start.
const CHROMIUM_ARGS = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-dev-shm-usage',
];

let failures = 0;
function problem(deck, msg) {
    failures++;
    console.log(`FAIL ${deck}: ${msg}`);
}

// ---- no remote assets in what was built -------------------------------

const REMOTE_ASSET = [
    // an element that loads what its src/href/data names
    /<(?:script|img|link|iframe|video|audio|source|object|embed|image|use)\b[^>]*?\s(?:src|href|data|xlink:href)\s*=\s*["']?\s*(?:https?:)?\/\//gi,
    // CSS
    /@import\s+(?:url\()?\s*["']?\s*(?:https?:)?\/\//gi,
    /url\(\s*["']?\s*(?:https?:)?\/\//gi,
];

function walk(dir) {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]);
}

function checkNoRemoteAssets(out) {
    let n = 0;
    for (const f of walk(out).filter((f) => /\.(html|css|svg)$/.test(f))) {
        const text = readFileSync(f, 'utf8');
        for (const re of REMOTE_ASSET) {
            for (const m of text.matchAll(re)) {
                const line = text.slice(0, m.index).split('\n').length;
                problem(relative(out, f),
                        `line ${line}: remote asset: ${m[0].slice(0, 120)}`);
                n++;
            }
        }
    }
    return n;
}

// ---- blank screenshots -------------------------------------------------

// The share of pixels that differ from the most common colour (the
// background). A slide that failed to render is one flat colour.
function inkShare(png) {
    const img = PNG.sync.read(png);
    const counts = new Map();
    const d = img.data;
    for (let i = 0; i < d.length; i += 4) {
        const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
        counts.set(k, (counts.get(k) || 0) + 1);
    }
    const bg = Math.max(...counts.values());
    return 1 - bg / (img.width * img.height);
}

// Console errors, uncaught exceptions and failed requests of a page are
// problems of the file it shows.
function watch(page, name) {
    page.on('console', (m) => {
        if (m.type() === 'error')
            problem(name, `console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problem(name, `uncaught: ${e.message}`));
    page.on('requestfailed', (r) => problem(name,
        `failed request: ${r.url()} (${r.failure()?.errorText})`));
}

// ---- one deck -----------------------------------------------------------

async function checkDeck(browser, out, deck, pdf, shots) {
    const name = `${deck.slug}.html`;
    const file = join(out, name);
    const want = deck.slides.length + GENERATED_SLIDES;
    if (!existsSync(file)) {
        problem(name, 'not built (run make slides)');
        return;
    }
    const ctx = await browser.newContext({
        viewport: { width: WIDTH, height: HEIGHT },
    });
    // Everything a deck needs is on disk: any other request is an error.
    await ctx.route(/^(?!file:)/, (route) => {
        problem(name, `request that leaves the disk: ${route.request().url()}`);
        route.abort();
    });
    const page = await ctx.newPage();
    watch(page, name);

    const url = pathToFileURL(file).href;
    await page.goto(url);
    await page.waitForFunction(() => window.Reveal && Reveal.isReady(),
                               null, { timeout: 20000 });
    // Screenshots of the slide itself, not of a transition half done.
    await page.evaluate(() => Reveal.configure({
        transition: 'none', backgroundTransition: 'none' }));
    const info = await page.evaluate(() => {
        const slides = Reveal.getSlides();
        const { height } = Reveal.getConfig();
        const res = { total: Reveal.getTotalSlides(), overflow: [],
                      diagrams: [], broken: [] };
        slides.forEach((s, i) => {
            Reveal.slide(i);
            // The content's height against the slide's: reveal.js scales
            // the slide, not its content, so what is taller is cut off.
            if (s.scrollHeight > height + 1)
                res.overflow.push({ i, line: s.dataset.sourceLine,
                                    h: s.scrollHeight });
            if (s.querySelector('img'))
                res.diagrams.push(i);
        });
        for (const img of document.querySelectorAll('img'))
            if (!img.complete || img.naturalWidth === 0)
                res.broken.push(img.getAttribute('src'));
        return res;
    });
    if (info.total !== want)
        problem(name, `${info.total} slides in the browser, ${want} in the ` +
                `source (${deck.slides.length} + title + closing)`);
    for (const o of info.overflow)
        problem(name, `slide ${o.i + 1} (decks/${deck.slug}.md:${
            o.line ?? 'generated'}) is ${o.h} px tall, more than ${HEIGHT}: ` +
            'its end is cut off; split it or shorten it');
    for (const b of info.broken)
        problem(name, `image did not load: ${b}`);

    // --shots DIR keeps a picture of every slide, to look at while writing.
    const sample = shots ? [...Array(info.total).keys()]
        : [...new Set([0, Math.floor(info.total / 2), info.total - 1,
                       ...info.diagrams])];
    for (const i of sample) {
        await page.evaluate((n) => Reveal.slide(n), i);
        await page.waitForTimeout(50);
        const png = await page.screenshot();
        if (shots)
            writeFileSync(join(shots, `${deck.slug}-${
                String(i + 1).padStart(2, '0')}.png`), png);
        const share = inkShare(png);
        if (share < 0.005)
            problem(name, `slide ${i + 1} looks blank (${
                (share * 100).toFixed(2)}% of pixels differ from the ` +
                'background)');
    }

    let pages = '';
    if (pdf) {
        const dst = join(out, 'pdf', `${deck.slug}.pdf`);
        await page.goto(`${url}?print-pdf`);
        // reveal.js lays the print view out after "ready": one .pdf-page
        // per slide, then it drops the loading class.
        await page.waitForFunction(() =>
            document.querySelector('.pdf-page') &&
            !document.querySelector('.loading-scroll-mode'),
                                   null, { timeout: 20000 });
        await page.pdf({ path: dst, preferCSSPageSize: true,
                         printBackground: true });
        const n = Number(/^Pages:\s+(\d+)/m.exec(
            execFileSync('pdfinfo', [dst]).toString())?.[1]);
        if (n !== want)
            problem(name, `pdf/${deck.slug}.pdf has ${n} pages, the deck ` +
                    `${want} slides`);
        pages = `, pdf ${n} pages`;
    }
    console.log(`ok   ${name}: ${info.total} slides, ${sample.length} ` +
                `screenshots${pages}`);
    await ctx.close();
}

// The index lists every deck, and each of its links to a deck, a PDF or a
// lab's README leads to a file that exists.
async function checkIndex(browser, out, decks, pdf) {
    const page = await browser.newPage();
    watch(page, 'index.html');
    await page.goto(pathToFileURL(join(out, 'index.html')).href);
    const hrefs = await page.$$eval('a', (as) => as.map((a) => a.href));
    for (const d of decks)
        if (!hrefs.some((h) => h.endsWith(`/${d.slug}.html`)))
            problem('index.html', `does not list ${d.slug}`);
    for (const h of hrefs.filter((h) => h.startsWith('file:'))) {
        const f = fileURLToPath(h);
        if (!existsSync(f) && (pdf || !f.endsWith('.pdf')))
            problem('index.html', `link to a missing file: ${f}`);
    }
    console.log(`ok   index.html: ${hrefs.length} links`);
    await page.close();
}

async function main() {
    const args = process.argv.slice(2);
    const pdf = args.includes('--pdf');
    const si = args.indexOf('--shots');
    const shots = si >= 0 ? resolve(args.splice(si, 2)[1] || '.') : null;
    if (shots)
        mkdirSync(shots, { recursive: true });
    const outArg = args.find((a) => !a.startsWith('--') && !a.endsWith('.md'));
    if (!outArg) {
        console.error('usage: node tools/check.mjs OUTDIR [--pdf] ' +
                      '[--shots DIR] [DECK.md...]');
        process.exit(2);
    }
    const out = resolve(outArg);
    if (pdf)
        mkdirSync(join(out, 'pdf'), { recursive: true });
    const want = args.filter((a) => a.endsWith('.md'))
        .map((a) => basename(a, '.md'));
    const decks = loadDecks(join(SLIDES, 'decks'), want)
        .filter((d) => !want.length || want.includes(d.slug));
    const remote = checkNoRemoteAssets(out);
    console.log(`${remote ? 'FAIL' : 'ok  '} no http(s) asset in ${out}`);
    const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
    if (!existsSync(executablePath)) {
        console.log(`FAIL no browser at ${executablePath}: install Debian's ` +
                    'chromium (make deps) or set CHROMIUM');
        process.exit(1);
    }
    const browser = await chromium.launch({ executablePath,
                                            args: CHROMIUM_ARGS });
    try {
        for (const d of decks)
            await checkDeck(browser, out, d, pdf, shots);
        if (!want.length)
            await checkIndex(browser, out, decks, pdf);
    } finally {
        await browser.close();
    }
    console.log(failures ? `slides: ${failures} problem(s)`
                         : `slides: ${decks.length} decks ok`);
    process.exit(failures ? 1 : 0);
}

main().catch((e) => {
    console.error(`slides: ${e.stack || e}`);
    process.exit(1);
});
