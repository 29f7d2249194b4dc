// deck.mjs - read a deck's Markdown source: its front matter and its slides.
//
// Shared by build.mjs (which renders the decks) and check.mjs (which counts
// what the browser shows against what the source says), so both agree on
// what a slide is.
//
// A deck source is:
//
//   ---
//   title: CPU virtualization
//   subtitle: trap-and-emulate, Popek and Goldberg, binary translation
//   labs: 01-kvm-basics, 02-cpu-modes
//   ---
//   ## First slide
//   ...
//   ---
//   ## Second slide
//   ...
//   Note:
//   Speaker notes for the second slide.
//
// Slides are separated by a line that is exactly `---` (outside fenced
// code). The build adds two slides of its own to every deck: the title
// slide (from the front matter) and the closing slide that links the labs.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const GENERATED_SLIDES = 2; // title + closing "practise it"

const FIELDS = ['title', 'subtitle', 'labs'];

export class DeckError extends Error {}

// parseDeck(path) -> { slug, number, meta: {title, subtitle, labs[]},
//                      slides: [{ line, body, notes }] }
export function parseDeck(path) {
    const slug = basename(path, '.md');
    const m = /^(\d\d)-[a-z0-9-]+$/.exec(slug);
    if (!m)
        throw new DeckError(`${path}: a deck is named NN-some-name.md`);
    const lines = readFileSync(path, 'utf8').split('\n');
    if (lines[0] !== '---')
        throw new DeckError(`${path}:1: a deck starts with front matter ` +
                            `(a line "---", then title:, subtitle:, labs:)`);
    const meta = { labs: [] };
    let i = 1;
    for (; i < lines.length && lines[i] !== '---'; i++) {
        const kv = /^([a-z]+):\s*(.*)$/.exec(lines[i]);
        if (!kv || !FIELDS.includes(kv[1]))
            throw new DeckError(`${path}:${i + 1}: front matter line ` +
                                `"${lines[i]}": expected one of ` +
                                FIELDS.map((f) => f + ':').join(' '));
        meta[kv[1]] = kv[1] === 'labs'
            ? kv[2].split(',').map((s) => s.trim()).filter(Boolean)
            : kv[2].trim();
    }
    if (i === lines.length)
        throw new DeckError(`${path}: front matter is not closed by "---"`);
    for (const f of ['title', 'subtitle'])
        if (!meta[f])
            throw new DeckError(`${path}: front matter has no ${f}:`);

    const slides = [];
    let cur = { line: i + 2, text: [] };
    let fence = null;
    for (i++; i < lines.length; i++) {
        const l = lines[i];
        const f = /^(```+|~~~+)/.exec(l);
        if (f) {
            if (!fence)
                fence = f[1];
            else if (l.startsWith(fence) && l.trim() === fence)
                fence = null;
        }
        if (!fence && l === '---') {
            slides.push(cur);
            cur = { line: i + 2, text: [] };
            continue;
        }
        cur.text.push(l);
    }
    if (fence)
        throw new DeckError(`${path}: a fenced code block (${fence}) is ` +
                            `never closed`);
    slides.push(cur);

    return {
        slug,
        number: Number(m[1]),
        meta,
        slides: slides.map((s) => splitNotes(path, s)),
    };
}

// The speaker notes of a slide are everything after a line "Note:".
function splitNotes(path, s) {
    const at = s.text.findIndex((l) => /^Note:\s*$/.test(l));
    const body = (at < 0 ? s.text : s.text.slice(0, at)).join('\n').trim();
    const notes = at < 0 ? '' : s.text.slice(at + 1).join('\n').trim();
    if (!body)
        throw new DeckError(`${path}:${s.line}: empty slide (two "---" ` +
                            `in a row?)`);
    return { line: s.line, body, notes };
}

// Every deck, in order. Building only some decks (while writing one)
// tolerates the others being broken or missing; a full build does not.
export function loadDecks(dir, want = []) {
    const decks = [];
    for (const f of readdirSync(dir).sort()) {
        if (!f.endsWith('.md'))
            continue;
        try {
            decks.push(parseDeck(join(dir, f)));
        } catch (e) {
            if (!(e instanceof DeckError) || !want.length ||
                want.includes(basename(f, '.md')))
                throw e;
            console.error(`slides: skipped: ${e.message}`);
        }
    }
    decks.forEach((d, i) => {
        if (d.number !== i + 1 && !want.length)
            throw new DeckError(`decks/${d.slug}.md: decks are numbered 01, 02, ... ` +
                 `without gaps; expected ${String(i + 1).padStart(2, '0')}`);
    });
    for (const w of want)
        if (!decks.some((d) => d.slug === w))
            throw new DeckError(`decks/${w}.md: no such deck`);
    return decks;
}
