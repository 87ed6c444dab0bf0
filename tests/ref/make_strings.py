#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizers/strings.jsonl: the tokenizer test strings,
one JSON string per line (UTF-8, not ASCII-escaped).  Run from the repo root;
then run tests/ref/tokenizer_ref.js to regenerate the reference ids."""
import json

S = []
add = S.append

# --- English prose
for s in [
    "Hello world", "Hello, world!", "The quick brown fox jumps over the lazy dog.",
    "It was the best of times, it was the worst of times.",
    "Once upon a time, there was a little girl who lived in a village near the forest.",
    "Machine learning is a field of study in artificial intelligence.",
    "She sells sea shells by the sea shore.", "A", "a", "I", " ", "  ", "\n",
    "Mr. Smith went to Washington D.C. on Jan. 5th, 2021.",
    "e.g. i.e. etc. vs. U.S.A.", "HELLO WORLD IN CAPITALS", "camelCaseIdentifier and snake_case_identifier",
    "Email me at someone@example.com or visit https://example.org/path?q=1&r=2#frag.",
    "\"Quoted text,\" she said. 'Single quotes' too.", "(parentheses) [brackets] {braces} <angles>",
    "Hyphen-ated words and em—dashes and en–dashes…", "The year 1999 and 2024.",
]: add(s)

# --- contractions
for s in [
    "it's", "don't", "they're", "we've", "I'm", "you'll", "he'd",
    "IT'S DON'T THEY'RE WE'VE I'M YOU'LL HE'D", "It'S", "The dog's bone's gone.",
    "'s 't 're 've 'm 'll 'd", "'S 'T 'RE 'VE 'M 'LL 'D", "'Re 'rE 'Ll 'lL 'Ve",
    "I'd've known", "rock 'n' roll", "'twas", "o'clock", "y'all'd've", "''s", "'", "''", "'x",
    "' s", "can't won't shan't", "l'homme d'affaires", "'ſ Kelvin'K",
]: add(s)

# --- numbers
for s in [
    "1", "12", "123", "1234", "12345", "123456", "1234567", "3.14", "3.14159265358979",
    "1,000", "1,000,000", "-42", "+7", "0.5%", "$100", "€20", "1e10", "0x1F", "2024-01-15",
    "12:30:45", "phone 555-123-4567", "version 1.2.3", "x1y22z333w4444", "½ ¾ ⅓", "Ⅻ Ⅳ", "٣٤٥",
    "१२३", "①②③", "²³", "１２３", "100km", "abc123def", " 123", "  123", "a 1 b 22 c 333",
]: add(s)

# --- code
add('#include <stdio.h>\n\nint main(void) {\n    printf("hello, world\\n");\n    return 0;\n}\n')
add("static int add(int a, int b) { return a + b; }")
add("for (size_t i = 0; i < n; i++) {\n\tsum += x[i] * y[i];\n}")
add("if (p == NULL || *p == '\\0') return -1;")
add("x += 1; y -= 2; z *= 3; w /= 4; a <<= 1; b >>= 2; c &&= d; e ||= f;")
add("def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n")
add("class Foo:\n    def __init__(self, x):\n        self.x = x\n\n    def __repr__(self):\n        return f'Foo({self.x!r})'\n")
add("import numpy as np\narr = np.zeros((3, 4), dtype=np.float32)\nprint(arr.shape)")
add("    indented four\n        indented eight\n\t\ttwo tabs\n")
add("lambda x: x ** 2  # square")
add("SELECT id, name FROM users WHERE age > 21 ORDER BY name;")
add('{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}')
add("<html><body><p class=\"x\">Hi</p></body></html>")
add("fn main() { let v: Vec<u8> = vec![0; 16]; println!(\"{:?}\", v); }")
add("$ ls -la | grep '\\.c$' && make -j8 2>&1 >/dev/null")
add("a->b->c; *ptr++ = val; arr[i][j] = ~mask ^ 0xFF;")
add("// comment\n/* block\n   comment */\n")
add("#!/bin/sh\nset -eu\necho \"$HOME\"\n")
add("===>>> !!! ??? ... --- ___ *** ### @@@")
add("x=1;y=2;z=x+y")

# --- whitespace runs
for s in [
    "  leading two spaces", "trailing two spaces  ", "   ", "    ", "        ", " a", "a ", " a ",
    "a  b", "a   b", "a    b", "a\tb", "a\t\tb", "\t", "\t\t\t", "\tx", "x\t", "\n\n", "\n\n\n",
    "a\nb", "a\n\nb", "a\n\n\nb", "a \nb", "a \n b", "a\n b", "a\n  b", " \n ", "\r\n", "a\r\nb",
    "line1\r\nline2\r\n", "\r\n\r\n", "\r", "a\rb", " \r\n \r\n", "a \t \n \r b", "\n \n \n",
    "end with newline\n", "\nstart with newline", "   \n   x", "x   \n   ", "\u00a0nbsp\u00a0", "a\u3000b",
    "a\u2003b\u2009c", "\u2028\u2029", "\u0085x", "\u000b\u000c", "x" + " " * 20 + "y", " " * 37,
    "\n" * 13, "\t \t \t", "a .b", "a  .b", ". . .", "  !  ", "!\n\n", "?\r\n\r\nx", ":\n\tx",
]: add(s)

# --- CJK, Korean, Japanese, other scripts
for s in [
    "안녕하세요, 세계!", "한국어 문장입니다. 잘 부탁드립니다.", "你好，世界！", "我爱自然语言处理。",
    "中文和English混合123", "こんにちは、世界。", "カタカナとひらがなと漢字", "東京は日本の首都です。",
    "Привет, мир!", "Здравствуйте", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया",
    "สวัสดีชาวโลก", "Xin chào thế giới", "Ñandú über naïve café façade", "Ærøskøbing straße",
    "İstanbul ıi", "ǅungla ǈ", "ΣΊΣΥΦΟΣ ß ẞ",
]: add(s)

# --- emoji
for s in [
    "😀", "Hello 😀 world", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇺🇸🇯🇵", "👩🏾‍💻 coding", "🤖🤖🤖",
    "emoji at end 🎉", "😀😃😄😁😆", "✨new✨", "1️⃣ 2️⃣", "🧑‍🤝‍🧑", "a😀b", " 😀", "  😀",
]: add(s)

# --- combining marks / normalisation
for s in [
    "e\u0301", "cafe\u0301", "caf\u00e9", "A\u030a", "\u212b", "n\u0303o", "\u1e9b\u0323",
    "o\u0308\u0304", "\uac00", "\u1100\u1161", "\u1100\u1161\u11a8", "ﬁ ligature", "x\u0301\u0301\u0301",
    "\u0301 lone combining", "Ǆ ǅ ǆ", "\u2126 ohm", "\u00c5ngstr\u00f6m vs A\u030angstro\u0308m",
]: add(s)

# --- special tokens
for s in [
    "<|endoftext|>", "<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|>", "<|end_of_text|>",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "text<|endoftext|>more text", "<|endoftext|><|endoftext|>", " <|endoftext|> ", "<|endoftext|",
    "<|im_start|", "<|start_header_id|>user<|end_header_id|>\n\nhello<|eot_id|>", "<think>\nhmm\n</think>\n\nanswer",
    "<tool_call>{\"name\": \"f\"}</tool_call>", "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    "<|reserved_special_token_5|>", "<repo_name>infuse<file_sep>main.c", "<<|im_end|>>", "<|<|endoftext|>|>",
    "a<|im_start|>b", "<|im_start|> user", "<jupyter_code>print(1)<jupyter_output>1<empty_output>",
]: add(s)

# --- punctuation, misc
for s in [
    "!!!", "???", "...", "!?!?", "--", "—", "\"\"\"", "'''", "```python\nx\n```", "#####", "~~~",
    "a!b?c.d", " !", " !!", "  !!", "!a", "(a)", "[[[]]]", "@#$%^&*()", "«guillemets»", "¿Qué? ¡Sí!",
    "©®™", "→←↑↓", "∑∫√∞≠≤", "°C", "§1.2 ¶3", "‽", "\u00ad soft hyphen", "\u200bzero\u200bwidth",
    "\u200d", "\ufeffBOM", "tab\tseparated\tvalues\t1\t2", "CSV,with,commas,,,", "a_b-c.d/e\\f|g",
]: add(s)

# --- long
add("a" * 1000)
add("supercalifragilisticexpialidocious" * 20)
add(" " * 2000)
add("\n" * 500)
add("ab" * 700)
add("9" * 301)
add("The quick brown fox. " * 50)
add("한" * 300)
add("😀" * 100)
add("x" + " " * 3000 + "y")
add("Pneumonoultramicroscopicsilicovolcanoconiosis")
add("")

# --- random mixes of the characters the split patterns care about (seeded)
import random
rng = random.Random(7)
alpha = [" ", " ", " ", "\t", "\n", "\r", "a", "Z", "b", "'", "'", "s", "S", "l", "L", "ve", "RE", "d",
         "m", "T", "1", "2", "3", "½", "٣", ".", "!", "😀", "é", "e\u0301", "\u00a0", "\u3000", "中",
         "<|im_end|>", "<think>", "<|endoftext|>", "ſ", "\u0085", "\u2028", "\u000b", "\u000c", "$", "(",
         "_", "-", "Ⅻ", "²", "ǅ", "\u0301", "\u200b", "\ufeff", "ﬁ", "\u212b", "한", "👍🏽", "\u1160"]
for _ in range(150):
    add("".join(rng.choice(alpha) for _ in range(rng.randint(1, 14))))

seen = set()
out = []
for s in S:
    if s in seen:
        continue
    seen.add(s)
    out.append(s)
with open("tests/fixtures/tokenizers/strings.jsonl", "w", encoding="utf-8") as f:
    for s in out:
        f.write(json.dumps(s, ensure_ascii=False) + "\n")
print(len(out), "strings")
