#!/usr/bin/env node
// bpe_train_ref.js - Hugging Face `tokenizers` as the oracle for infuse's BPE
// trainer (tests/test_bpe_train.c).  Writes, in tests/fixtures/tokenizers-trained/:
//
//   ids.jsonl         the ids HF gives for each string of
//                     tests/fixtures/tokenizers/strings.jsonl with the
//                     tokenizer.json that infuse trained (encode with
//                     addSpecialTokens=false; special tokens in the text are
//                     matched, as HF does by default);
//   hf-merges.jsonl   all the merges, one [left, right] a line, that
//                     HF's own BpeTrainer learns from corpus.txt with the same
//                     pre-tokenizer (Digits individual + ByteLevel), fed line by
//                     line as its train() reads files, the "<|endoftext|>"
//                     separator lines left out (HF's trainer does not cut
//                     special tokens out of the text).  Its defaults:
//                     min_frequency 0, vocab 30000, so it runs until no pair
//                     is left (about 1200 merges for this corpus).
//
//   cd tests/ref && npm install && cd ../.. && node tests/ref/bpe_train_ref.js
const fs = require('fs');
const os = require('os');
const path = require('path');
const hf = require('tokenizers');

const root = path.resolve(__dirname, '..', '..');
const dir = path.join(root, 'tests', 'fixtures', 'tokenizers-trained');

async function main() {
  const lines = fs.readFileSync(path.join(root, 'tests', 'fixtures', 'tokenizers', 'strings.jsonl'), 'utf8')
    .split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  const tok = hf.Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
  tok.disableTruncation();
  tok.disablePadding();
  const rows = [];
  for (const s of lines) {
    const enc = await tok.encode(s, null, { addSpecialTokens: false });
    rows.push(JSON.stringify(Array.from(enc.getIds())));
  }
  fs.writeFileSync(path.join(dir, 'ids.jsonl'), rows.join('\n') + '\n');
  console.log(`ids.jsonl: ${lines.length} strings`);

  const corpus = fs.readFileSync(path.join(dir, 'corpus.txt'), 'utf8');
  const kept = corpus.split(/(?<=\n)/).filter((l) => l !== '<|endoftext|>\n').join('');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bpe-ref-'));
  const tmpCorpus = path.join(tmp, 'corpus.txt'), tmpOut = path.join(tmp, 'tokenizer.json');
  fs.writeFileSync(tmpCorpus, kept);
  const trainer = new hf.Tokenizer(hf.BPE.empty());
  trainer.setPreTokenizer(hf.sequencePreTokenizer([hf.digitsPreTokenizer(true), hf.byteLevelPreTokenizer(false, true)]));
  trainer.train([tmpCorpus]);
  trainer.save(tmpOut, false);
  const merges = JSON.parse(fs.readFileSync(tmpOut, 'utf8')).model.merges
    .map((m) => (Array.isArray(m) ? m : m.split(' ')));
  fs.rmSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(dir, 'hf-merges.jsonl'), merges.map((m) => JSON.stringify(m)).join('\n') + '\n');
  console.log(`hf-merges.jsonl: ${merges.length} merges`);
}
main().catch((err) => { console.error(err); process.exit(1); });
