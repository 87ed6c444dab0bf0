#!/usr/bin/env node
// tokenizer_ref.js - reference token ids from Hugging Face `tokenizers` (the
// Rust library for Node), the oracle for tests/test_tokenizer.c.
//
// Reads tests/fixtures/tokenizers/strings.jsonl (one JSON string a line) and,
// for each tokenizer under ../shared/fixtures/tokenizers/, writes
// tests/fixtures/tokenizers/<name>.ids.jsonl: one JSON array of ids a line,
// from encode(text, addSpecialTokens=false) with truncation off (GPT-2's
// file carries a saved truncation of 50).  Added tokens in the text are
// matched, as HF does by default.
//
//   cd tests/ref && npm install && cd ../.. && node tests/ref/tokenizer_ref.js
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

const root = path.resolve(__dirname, '..', '..');
const shared = path.resolve(root, '..', 'shared', 'fixtures', 'tokenizers');
const outDir = path.join(root, 'tests', 'fixtures', 'tokenizers');
const names = ['gpt2', 'smollm2-135m-instruct', 'llama3', 'qwen3'];

const lines = fs.readFileSync(path.join(outDir, 'strings.jsonl'), 'utf8').split('\n');
const strings = lines.filter((l) => l.length > 0).map((l) => JSON.parse(l));

async function main() {
  for (const name of names) {
    const tok = Tokenizer.fromFile(path.join(shared, name, 'tokenizer.json'));
    tok.disableTruncation();
    tok.disablePadding();
    const rows = [];
    for (const s of strings) {
      const enc = await tok.encode(s, null, { addSpecialTokens: false });
      rows.push(JSON.stringify(Array.from(enc.getIds())));
    }
    fs.writeFileSync(path.join(outDir, name + '.ids.jsonl'), rows.join('\n') + '\n');
    console.log(`${name}: ${strings.length} strings`);
  }
}
main().catch((err) => { console.error(err); process.exit(1); });
