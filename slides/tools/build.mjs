// build.mjs - build the course decks into offline reveal.js HTML.
//
//   node tools/build.mjs OUTDIR [DECK.md...]
//
// For every deck (default: decks/*.md) it writes OUTDIR/NN-name.html, the
// Graphviz diagrams the deck uses as OUTDIR/diagrams/NAME.svg, and
// OUTDIR/index.html listing every deck with its labs. reveal.js and its
// plugins are copied from node_modules into OUTDIR/reveal/, so a deck opens
// from disk with no network (file://).
//
// What the Markdown may use beyond CommonMark (see slides/README.md):
//   ![caption](diagrams/NAME.dot)   a diagram, rendered with Graphviz dot
//   ```c excerpt=PATH fn=NAME from="TEXT" to="TEXT"
//   ```                             code taken from the project's sources
//   Note:                           the rest of the slide is speaker notes
import { execFileSync } from 'node:child_process';
import {
    copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync,
    writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Marked } from 'marked';
import { DeckError, loadDecks } from './deck.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SLIDES = resolve(HERE, '..');
const ROOT = resolve(SLIDES, '..');
const REVEAL = join(SLIDES, 'node_modules', 'reveal.js', 'dist');
const COURSE = 'virtlab: virtualization, hypervisors and containers';

// An excerpt longer than this does not fit a slide: take a narrower
// from=/to= range instead.
const MAX_EXCERPT_LINES = 22;

// The parts of reveal.js a deck loads, relative to node_modules/reveal.js/dist.
const REVEAL_FILES = [
    'reset.css', 'reveal.css', 'theme/white.css', 'reveal.js',
    'plugin/notes.js', 'plugin/highlight.js', 'plugin/zoom.js',
    'plugin/search.js', 'plugin/highlight/monokai.css',
];

function fail(msg) {
    throw new DeckError(msg);
}

const esc = (s) => s.replace(/[&<>"]/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;',
})[c]);

// ---- code excerpts ---------------------------------------------------

// Parse `key=value key="a value"` from a fence's info string.
function fenceArgs(info, where) {
    const args = {};
    // A quoted value may hold \" for a quote: to="return vl_err(errno, \"X\");"
    const re = /(\w+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))/g;
    let m;
    let rest = info;
    while ((m = re.exec(info))) {
        args[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
        rest = rest.replace(m[0], '');
    }
    if (rest.trim().split(/\s+/).length > 1)
        fail(`${where}: cannot read the fence's options "${info}"; ` +
             `write key=value or key="a value"`);
    for (const k of Object.keys(args))
        if (!['excerpt', 'fn', 'from', 'to'].includes(k))
            fail(`${where}: unknown excerpt option ${k}= ` +
                 `(excerpt=, fn=, from=, to=)`);
    return args;
}

// The lines of function NAME's definition in a C file: from the line that
// starts with its return type to the closing brace in column 0.
function functionLines(lines, name, where) {
    const head = new RegExp(`^[A-Za-z_].*\\b${name}\\(`);
    for (let i = 0; i < lines.length; i++) {
        if (!head.test(lines[i]) || /;\s*$/.test(lines[i]))
            continue;
        const end = lines.indexOf('}', i);
        if (end < 0)
            break;
        return lines.slice(i, end + 1);
    }
    return fail(`${where}: no definition of ${name}() found`);
}

// Build-time code excerpt: the source is read now, so a slide cannot
// drift from the code it shows; a function or text that moved fails the
// build with the place to fix.
function excerpt(args, where) {
    if (!args.fn && !args.from)
        fail(`${where}: say which part of ${args.excerpt} to show ` +
             `(fn=NAME and/or from="TEXT" to="TEXT")`);
    const file = join(ROOT, args.excerpt);
    if (!existsSync(file)) {
        const stage = RELEASE && studentStage(args.excerpt);
        if (stage && existsSync(join(ROOT, stage)))
            return skeletonExcerpt(stage, args, where);
        fail(`${where}: excerpt=${args.excerpt}: no such file in the project`);
    }
    // The markers of the skeleton generator are not part of the lesson.
    let lines = readFileSync(file, 'utf8').split('\n').filter((l) =>
        !/\/\* (SOLUTION (BEGIN|END)|stub:.*) \*\//.test(l));
    if (args.fn)
        lines = functionLines(lines, args.fn, where);
    return { text: narrow(lines, args, where), source: args.excerpt };
}

// A student release (make student-release) has no solution sources: an
// excerpt of solutions/NN-x/F.c shows the student's labs/NN-x/F.c instead,
// the function as the lab hands it out (its TODO stub), so the slides
// do not give the answers away.
const RELEASE = existsSync(join(ROOT, 'solutions', 'README.md')) &&
    /compiled/.test(readFileSync(join(ROOT, 'solutions', 'README.md'), 'utf8')
        .split('\n')[0]);

function studentStage(path) {
    const m = /^solutions\/(\d\d-[\w-]+\/[\w-]+\.c)$/.exec(path);
    return m ? `labs/${m[1]}` : null;
}

function skeletonExcerpt(stage, args, where) {
    const source = `${stage} (the reference code is not in this copy)`;
    const none = { text: `/* ${args.fn ? args.fn + '(): ' : ''}you write ` +
        `this in ${stage} */`, source };
    if (!args.fn)
        return none;
    let lines;
    try {
        lines = functionLines(readFileSync(join(ROOT, stage), 'utf8')
            .split('\n'), args.fn, where);
    } catch (e) {
        return none; // a helper the student writes inside a TODO
    }
    return { text: narrow(lines.slice(0, MAX_EXCERPT_LINES), {}, where),
             source };
}

function narrow(lines, args, where) {
    if (args.from) {
        const i = lines.findIndex((l) => l.includes(args.from));
        if (i < 0)
            fail(`${where}: from="${args.from}" not found in ` +
                 `${args.excerpt}${args.fn ? ' ' + args.fn + '()' : ''}`);
        lines = lines.slice(i);
    }
    if (args.to) {
        const i = lines.findIndex((l) => l.includes(args.to));
        if (i < 0)
            fail(`${where}: to="${args.to}" not found after the start ` +
                 `of the excerpt`);
        lines = lines.slice(0, i + 1);
    }
    if (lines.length > MAX_EXCERPT_LINES)
        fail(`${where}: the excerpt is ${lines.length} lines, more than ` +
             `${MAX_EXCERPT_LINES} fit a slide; narrow it with from=/to=`);
    // Remove the common indentation, so an excerpt from inside a function
    // starts at the left margin.
    const ind = Math.min(...lines.filter((l) => l.trim()).map(
        (l) => l.match(/^ */)[0].length));
    return lines.map((l) => l.slice(ind)).join('\n');
}

// ---- diagrams ----------------------------------------------------------

function renderDiagram(name, out, where) {
    const src = join(SLIDES, 'diagrams', name + '.dot');
    if (!existsSync(src))
        fail(`${where}: diagrams/${name}.dot does not exist`);
    const dst = join(out, 'diagrams', name + '.svg');
    mkdirSync(dirname(dst), { recursive: true });
    try {
        execFileSync('dot', ['-Tsvg', '-o', dst, src], {
            stdio: ['ignore', 'ignore', 'pipe'],
        });
    } catch (e) {
        fail(`${where}: Graphviz failed on diagrams/${name}.dot:\n` +
             (e.stderr ? e.stderr.toString() : e.message));
    }
}

// ---- Markdown -> reveal.js sections -------------------------------------

function makeMarked(ctx) {
    const marked = new Marked({ gfm: true });
    marked.use({
        renderer: {
            code(tok) {
                const lang = (tok.lang || '').split(/\s+/)[0];
                let text = tok.text;
                let caption = '';
                if (/\bexcerpt=/.test(tok.lang || '')) {
                    const a = fenceArgs(tok.lang.slice(lang.length), ctx.where);
                    const ex = excerpt(a, ctx.where);
                    text = ex.text;
                    caption = `<p class="source">${esc(ex.source)}` +
                        (a.fn ? ` &middot; <code>${esc(a.fn)}()</code>` : '') +
                        '</p>';
                    ctx.excerpts++;
                }
                const cls = lang ? ` class="language-${esc(lang)}"` : '';
                return `<pre><code${cls} data-trim>` +
                    `${esc(text)}</code></pre>${caption}\n`;
            },
            image(tok) {
                const m = /^diagrams\/([\w-]+)\.dot$/.exec(tok.href);
                if (!m)
                    fail(`${ctx.where}: image ${tok.href}: a deck's pictures ` +
                         `are Graphviz sources, diagrams/NAME.dot`);
                renderDiagram(m[1], ctx.out, ctx.where);
                ctx.diagrams.add(m[1]);
                return `<figure><img src="diagrams/${m[1]}.svg" ` +
                    `alt="${esc(tok.text)}">` +
                    (tok.text ? `<figcaption>${esc(tok.text)}</figcaption>` : '') +
                    '</figure>';
            },
            link(tok) {
                const text = this.parser.parseInline(tok.tokens);
                return `<a href="${esc(tok.href)}">${text}</a>`;
            },
        },
    });
    return marked;
}

// The title of a lab, from the first line of its README ("# Lab 01: ...").
function labTitle(slug, where) {
    const readme = join(ROOT, 'labs', slug, 'README.md');
    if (!existsSync(readme))
        fail(`${where}: labs: ${slug} is not a lab (no labs/${slug}/README.md)`);
    const first = readFileSync(readme, 'utf8').split('\n')[0];
    return first.replace(/^#\s*/, '');
}

function titleSlide(deck, total) {
    return `<section class="title-slide">
<p class="course">${esc(COURSE)}</p>
<h1>${esc(deck.meta.title)}</h1>
<p class="subtitle">${esc(deck.meta.subtitle)}</p>
<p class="chapter">Chapter ${deck.number} of ${total}</p>
</section>`;
}

function closingSlide(deck, decks, out) {
    const where = `decks/${deck.slug}.md`;
    const labs = deck.meta.labs.map((slug) => {
        const href = relative(out, join(ROOT, 'labs', slug, 'README.md'));
        return `<li><a href="${esc(href)}">${esc(labTitle(slug, where))}</a>` +
            ` <span class="path">labs/${esc(slug)}/</span></li>`;
    });
    const next = decks.find((d) => d.number === deck.number + 1);
    return `<section class="closing">
<h2>Practise it</h2>
${labs.length
        ? `<ul class="labs">\n${labs.join('\n')}\n</ul>
<p>Start with the lab's README, then <code>make grade LAB=${
            esc(deck.meta.labs[0].slice(0, 2))}</code>.</p>`
        : '<p>No lab practises this chapter yet: the questions at the end ' +
          'of the labs and the references are the way in.</p>'}
<p class="nav"><a href="index.html">All decks</a>${next
        ? ` &middot; next: <a href="${next.slug}.html">${
            esc(next.meta.title)}</a>` : ''}</p>
</section>`;
}

function page(title, head, body) {
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
${head}
</head>
<body>
${body}
</body>
</html>
`;
}

function renderDeck(deck, decks, out) {
    const ctx = { out, diagrams: new Set(), excerpts: 0, where: '' };
    const marked = makeMarked(ctx);
    const sections = deck.slides.map((s) => {
        ctx.where = `decks/${deck.slug}.md:${s.line}`;
        const notes = s.notes
            ? `\n<aside class="notes">${marked.parse(s.notes)}</aside>` : '';
        return `<section data-source-line="${s.line}">\n` +
            `${marked.parse(s.body)}${notes}\n</section>`;
    });
    const head = [
        'reveal/reset.css', 'reveal/reveal.css', 'reveal/theme/white.css',
        'reveal/plugin/highlight/monokai.css', 'virtlab.css',
    ].map((h) => `<link rel="stylesheet" href="${h}">`).join('\n');
    const body = `<div class="reveal"><div class="slides">
${titleSlide(deck, decks.length)}
${sections.join('\n')}
${closingSlide(deck, decks, out)}
</div></div>
<script src="reveal/reveal.js"></script>
<script src="reveal/plugin/notes.js"></script>
<script src="reveal/plugin/highlight.js"></script>
<script src="reveal/plugin/zoom.js"></script>
<script src="reveal/plugin/search.js"></script>
<script>
Reveal.initialize({
    hash: true,
    width: 1280,
    height: 720,
    margin: 0.04,
    center: false,
    slideNumber: 'c/t',
    transition: 'fade',
    transitionSpeed: 'fast',
    // One PDF page per slide, without the notes (make slides-pdf).
    pdfSeparateFragments: false,
    pdfMaxPagesPerSlide: 1,
    plugins: [RevealNotes, RevealHighlight, RevealZoom, RevealSearch],
});
</script>`;
    writeFileSync(join(out, deck.slug + '.html'),
                  page(`${deck.meta.title} - virtlab`, head, body));
    return ctx;
}

function renderIndex(decks, out) {
    const rows = decks.map((d) => {
        const labs = d.meta.labs.map((slug) =>
            `<a href="${esc(relative(out, join(ROOT, 'labs', slug,
                'README.md')))}">${esc(slug)}</a>`).join(', ') || '&ndash;';
        return `<tr><td>${d.number}</td>
<td><a href="${d.slug}.html">${esc(d.meta.title)}</a>
<div class="sub">${esc(d.meta.subtitle)}</div></td>
<td><a href="pdf/${d.slug}.pdf">PDF</a></td><td>${labs}</td></tr>`;
    });
    const body = `<main>
<h1>${esc(COURSE)}</h1>
<p>The lectures of the course, one deck per chapter. Open a deck and press
<kbd>S</kbd> for the speaker view with notes, <kbd>Esc</kbd> for the overview,
<kbd>Ctrl</kbd>+<kbd>Shift</kbd>+<kbd>F</kbd> to search. The PDF column needs
<code>make slides-pdf</code>.</p>
<table>
<thead><tr><th>#</th><th>Deck</th><th>PDF</th><th>Labs</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</main>`;
    writeFileSync(join(out, 'index.html'),
                  page(COURSE, '<link rel="stylesheet" href="index.css">',
                       body));
}

function copyAssets(out) {
    for (const f of REVEAL_FILES) {
        const src = join(REVEAL, f);
        if (!existsSync(src))
            fail(`${src} is missing: run \`npm ci\` in slides/ ` +
                 `(make deps does)`);
        mkdirSync(dirname(join(out, 'reveal', f)), { recursive: true });
        copyFileSync(src, join(out, 'reveal', f));
    }
    for (const f of ['virtlab.css', 'index.css'])
        copyFileSync(join(SLIDES, 'theme', f), join(out, f));
}

function main() {
    const [outArg, ...only] = process.argv.slice(2);
    if (!outArg) {
        console.error('usage: node tools/build.mjs OUTDIR [DECK.md...]');
        process.exit(2);
    }
    const out = resolve(outArg);
    mkdirSync(out, { recursive: true });
    const want = only.map((p) => basename(p, '.md'));
    const all = loadDecks(join(SLIDES, 'decks'), want);
    // A full build starts from clean decks and diagrams (a renamed deck
    // leaves nothing behind); the PDFs stay until make slides-pdf.
    if (!want.length) {
        rmSync(join(out, 'diagrams'), { recursive: true, force: true });
        for (const f of readdirSync(out))
            if (/^\d\d-.*\.html$/.test(f))
                rmSync(join(out, f));
    }
    copyAssets(out);
    for (const d of all) {
        if (want.length && !want.includes(d.slug))
            continue;
        const ctx = renderDeck(d, all, out);
        console.log(`slides: ${d.slug}.html: ${d.slides.length + 2} slides, ` +
                    `${ctx.diagrams.size} diagrams, ${ctx.excerpts} excerpts`);
    }
    renderIndex(all, out);
}

try {
    main();
} catch (e) {
    if (!(e instanceof DeckError))
        throw e;
    // marked adds a plea to report its own bugs to any error it passes on
    console.error(`slides: ${e.message.replace(/\nPlease report this.*/s, '')}`);
    process.exit(1);
}
