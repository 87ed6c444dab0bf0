#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizers-trained/corpus.txt: a small mixed corpus
(English prose, C and Python code, numbers, whitespace runs, Korean, Chinese,
Japanese, emoji) for the BPE trainer's fixture.  Deterministic: its own LCG,
no library randomness.  Documents are separated by a line "<|endoftext|>".
Run from the repository root; see tests/ref/README.md for the rest."""

state = 12345


def rnd(n):
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    return (state >> 33) % n


def pick(xs):
    return xs[rnd(len(xs))]


WORDS = """the a of and to in is was for on that with as it by at from this be are
model token tokenizer language small domain teach learn training data text file
merge pair vocabulary byte level encode decode word count frequency corpus
quick brown fox jumps over lazy dog river mountain village forest garden
people time year day night morning evening water light sound music story
because however although therefore while when where which who what how
running jumped thinking beautiful important different possible available""".split()
NAMES = ["Alice", "Bob", "Seoul", "Tokyo", "Berlin", "Marie", "GPT", "HTML", "CPU", "OpenBLAS"]
KO = """안녕하세요 한국어 문장 모델 학습 데이터 토크나이저 서울 사람 시간 오늘 내일
학교 공부 하다 합니다 입니다 있습니다 없습니다 그리고 하지만 우리 나라 음악""".split()
ZH = ["我们", "学习", "语言", "模型", "数据", "中文", "今天", "天气", "很好", "北京", "大学", "时间"]
JA = ["こんにちは", "日本語", "東京", "学習", "モデル", "データ", "です", "ます", "ありがとう"]
EMOJI = ["😀", "🚀", "👍", "🎉", "❤️", "🇰🇷", "👩‍💻", "🔥", "✨", "🙂"]
CODE = [
    "int main(int argc, char **argv) {\n    return 0;\n}\n",
    "for (size_t i = 0; i < n; i++) {\n\tsum += x[i] * w[i];\n}\n",
    "def train(model, data, lr=1e-3):\n    for step, batch in enumerate(data):\n        loss = model(batch)\n",
    "if (rc != 0) return err_set(e, \"%s: bad header\", path);\n",
    "    x = [i ** 2 for i in range(10)]  # squares\n",
    "#include <stdio.h>\n#define N 1024\n",
    "const char *s = \"hello\\n\";\n",
    "while True:\n        pass\n",
    "    if __name__ == \"__main__\":\n        main()\n",
]


def sentence():
    n = 4 + rnd(12)
    ws = []
    for i in range(n):
        r = rnd(20)
        if r == 0:
            ws.append(pick(NAMES))
        elif r == 1:
            ws.append(str(rnd(100000)))
        elif r == 2:
            ws.append("%d.%d" % (rnd(100), rnd(1000)))
        else:
            ws.append(pick(WORDS))
    s = " ".join(ws)
    s = s[0].upper() + s[1:]
    return s + pick([".", ".", ".", "!", "?", ",", ";", ":"])


def korean():
    return " ".join(pick(KO) for _ in range(3 + rnd(8))) + pick([".", "?", "!"])


def cjk():
    return "".join(pick(ZH) for _ in range(2 + rnd(6))) + "。" + "".join(pick(JA) for _ in range(1 + rnd(4))) + "。"


def doc():
    parts = []
    for _ in range(2 + rnd(6)):
        r = rnd(10)
        if r < 5:
            parts.append(" ".join(sentence() for _ in range(1 + rnd(4))) + "\n")
        elif r == 5:
            parts.append(korean() + " " + pick(EMOJI) + "\n")
        elif r == 6:
            parts.append(cjk() + "\n")
        elif r == 7:
            parts.append(pick(CODE))
        elif r == 8:
            parts.append("- " + sentence() + "   \n" + " " * rnd(6) + "* " + sentence() + pick(EMOJI) + "\n")
        else:
            parts.append("\n" * (1 + rnd(2)) + "\t" * rnd(2) + sentence() + "\n")
    return "".join(parts)


out = []
size = 0
while size < 60000:
    d = doc()
    out.append(d)
    size += len(d.encode("utf-8"))
text = "<|endoftext|>\n".join(out)
with open("tests/fixtures/tokenizers-trained/corpus.txt", "w", encoding="utf-8", newline="") as f:
    f.write(text)
print("corpus.txt: %d bytes, %d documents" % (len(text.encode("utf-8")), len(out)))
